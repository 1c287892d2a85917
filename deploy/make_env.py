"""Write the environment files of the systemd units (deploy/systemd/) into
/etc/dispatchmap, each mode 0600, from the broker's credentials.csv
(feeds/broker_auth.py) and database passwords made here.

    python deploy/make_env.py --credentials CSV [--out /etc/dispatchmap]
        [--database postgresql://127.0.0.1:5432/dispatchmap]
        [--broker mqtt://127.0.0.1:1883] [--ingest-workers 2]
        [--allowed-hosts wall.station.example] [--dash-port 8050]

Files: owner.env (DATABASE_URL as the database owner, and the three program
roles' passwords, which `dispatchmap db upgrade` sets), ingest.env and
ingest-N.env (one broker user per worker), dispatcher.env, serve.env, and
owner-password.sql (the owner's password as a SCRAM-SHA-256 verifier, for
psql as the postgres superuser: the clear password never reaches the server
or its log). Running it again keeps every password already in the files, so
it can be re-run after adding an ingest worker or rotating broker passwords.
Standard library only: it runs before the venv exists if need be.
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import hmac
import os
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

OWNER = "dispatchmap_owner"
PROGRAM_ROLES = {
    "DM_INGEST_DB_PASSWORD": "dm_ingest",
    "DM_DISPATCH_DB_PASSWORD": "dm_dispatcher",
    "DM_DASH_DB_PASSWORD": "dm_dashboard",
}
OWNER_PASSWORD = "DM_OWNER_DB_PASSWORD"
DISPATCH_USER = "dispatchmap-dispatch"  # as feeds.broker_auth.DISPATCH_USER
SCRAM_ITERATIONS = 4096  # PostgreSQL's own default (scram_iterations)


def read_env(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of an environment file (``#`` comments); empty if absent."""
    if not path.exists():
        return {}
    out = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            out[key.strip()] = value.strip()
    return out


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` created with mode 0600 (never readable by others,
    not even for a moment), replacing the file if it exists."""
    tmp = path.with_name(path.name + ".new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def env_text(comment: str, values: dict[str, str]) -> str:
    return f"# {comment}\n# Written by deploy/make_env.py; mode 0600.\n" + "".join(
        f"{key}={value}\n" for key, value in values.items()
    )


def with_auth(url: str, user: str, password: str) -> str:
    """``url`` with ``user:password@`` (percent-encoded) in front of its host."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


def libpq_env(url: str, user: str, password: str) -> dict[str, str]:
    """PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD for the libpq tools."""
    parts = urlsplit(url)
    return {
        "PGHOST": parts.hostname or "127.0.0.1",
        "PGPORT": str(parts.port or 5432),
        "PGDATABASE": parts.path.lstrip("/") or "dispatchmap",
        "PGUSER": user,
        "PGPASSWORD": password,
    }


def scram_verifier(password: str, salt: bytes | None = None) -> str:
    """PostgreSQL's SCRAM-SHA-256 verifier of ``password`` (as
    ``pg_authid.rolpassword`` stores it; RFC 5802/7677). ASCII passwords only:
    SASLprep leaves them unchanged."""
    salt = salt or secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, SCRAM_ITERATIONS)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    return f"SCRAM-SHA-256${SCRAM_ITERATIONS}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def broker_passwords(path: Path) -> dict[str, str]:
    """Username -> password of the broker's credentials.csv."""
    with open(path, newline="") as fh:
        return {row["username"]: row["password"] for row in csv.DictReader(fh)}


def make_env(args: argparse.Namespace) -> list[Path]:
    """Write every file; return their paths."""
    out: Path = args.out
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    old = read_env(out / "owner.env")
    secret = {k: old.get(k) or secrets.token_urlsafe(32) for k in [OWNER_PASSWORD, *PROGRAM_ROLES]}
    broker = broker_passwords(args.credentials)
    db = args.database
    tls = {"DM_MQTT_CA_FILE": args.mqtt_ca_file} if args.mqtt_ca_file else {}
    role_urls = {role: with_auth(db, role, secret[k]) for k, role in PROGRAM_ROLES.items()}
    files = {
        "owner.env": env_text(
            "The database owner: db upgrade, load-city, users, wall-token, retention, "
            "audit verify, backups (source it with set -a). db upgrade sets the program "
            "roles' passwords below.",
            {
                "DATABASE_URL": with_auth(db, args.owner, secret[OWNER_PASSWORD]),
                OWNER_PASSWORD: secret[OWNER_PASSWORD],
                # The same for pg_dump, pg_restore and psql, so no password is
                # ever on a command line (where `ps` shows it to every user).
                **libpq_env(db, args.owner, secret[OWNER_PASSWORD]),
                **{k: secret[k] for k in PROGRAM_ROLES},
            },
        ),
        "ingest.env": env_text(
            "Every ingest worker (dispatchmap-ingest@N.service).",
            {
                "DM_INGEST_DATABASE_URL": role_urls["dm_ingest"],
                "DM_INGEST_SHARE_GROUP": args.share_group,
                **tls,
            },
        ),
        "dispatcher.env": env_text(
            "dispatchmap-dispatcher.service",
            {
                "DM_DISPATCH_DATABASE_URL": role_urls["dm_dispatcher"],
                "MQTT_URL": with_auth(args.broker, DISPATCH_USER, broker[DISPATCH_USER]),
                **tls,
            },
        ),
        "serve.env": env_text(
            "dispatchmap-serve.service: gunicorn on loopback behind the TLS proxy.",
            {
                "DM_DASH_DATABASE_URL": role_urls["dm_dashboard"],
                "DM_DASH_HOST": "127.0.0.1",
                "DM_DASH_PORT": str(args.dash_port),
                "DM_DASH_WORKERS": str(args.dash_workers),
                "DM_DASH_THREADS": str(args.dash_threads),
                "DM_DASH_SECURE_COOKIES": "true",
                "DM_DASH_PROXY_HOPS": "1",  # nginx in front: its X-Forwarded-For is believed
                "DM_DASH_ALLOWED_HOSTS": args.allowed_hosts,
            },
        ),
        "owner-password.sql": (
            "-- The owner's password as a SCRAM verifier; psql as postgres reads it on stdin.\n"
            f"ALTER ROLE {args.owner} PASSWORD '{scram_verifier(secret[OWNER_PASSWORD])}';\n"
        ),
    }
    for n in range(1, args.ingest_workers + 1):
        user = f"dispatchmap-ingest-{n}"  # as feeds.broker_auth.ingest_user(n)
        if user not in broker:
            sys.exit(
                f"make_env: {user} is not in {args.credentials}: generate the broker "
                f"credentials with --ingest-workers {args.ingest_workers} or more"
            )
        files[f"ingest-{n}.env"] = env_text(
            f"dispatchmap-ingest@{n}.service: its own broker user and metrics port.",
            {
                "MQTT_URL": with_auth(args.broker, user, broker[user]),
                "DM_INGEST_METRICS_PORT": str(
                    args.metrics_port + n - 1 if args.metrics_port else 0
                ),
            },
        )
    for name, text in files.items():
        write_private(out / name, text)
    return [out / name for name in files]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--credentials", type=Path, required=True, help="broker credentials.csv")
    parser.add_argument("--out", type=Path, default=Path("/etc/dispatchmap"))
    parser.add_argument(
        "--database",
        default="postgresql://127.0.0.1:5432/dispatchmap",
        help="the database's URL without a user",
    )
    parser.add_argument("--owner", default=OWNER, help="the database owner's role")
    parser.add_argument("--broker", default="mqtt://127.0.0.1:1883", help="without a user")
    parser.add_argument(
        "--mqtt-ca-file", help="DM_MQTT_CA_FILE for an mqtts:// broker (the broker's CA)"
    )
    parser.add_argument("--ingest-workers", type=int, default=2)
    parser.add_argument("--share-group", default="ingest")
    parser.add_argument(
        "--metrics-port", type=int, default=9108, help="worker 1's; N's is +N-1; 0: none"
    )
    parser.add_argument("--dash-port", type=int, default=8050)
    parser.add_argument("--dash-workers", type=int, default=2, help="gunicorn processes")
    parser.add_argument(
        "--dash-threads", type=int, default=8, help="threads (and database connections) each"
    )
    parser.add_argument(
        "--allowed-hosts", required=True, help="host names the wall is reached by, comma separated"
    )
    args = parser.parse_args(argv)
    for path in make_env(args):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
