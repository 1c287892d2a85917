"""Per-device broker credentials and the Mosquitto ACL, built from the roster.

Every terminal gets a user of its own, named by the device id the ingest knows
it by (``trk-c01``, the radio's ISSI ``2620101``, ``owntracks/c01/phone``), and
may publish only to its own topics; a stolen tracker's password cannot move
another unit's marker. Radios and phones also answer their unit's orders
(``dm/acks/{unit}``) and receive them (``dm/orders/{unit}``). The service users:
``dispatchmap-ingest-1`` .. ``-N`` read the feeds (one user per worker, since
the broker binds each session to its user: ``use_username_as_clientid``),
``dispatchmap-dispatch`` reads incidents, acks and status keys and writes
orders, and ``dispatchmap-110`` (the 110 call-taking gateway) writes incidents
and nothing else. Service grants are the workers' own subscription lists
(:meth:`Topics.subscriptions`, :meth:`Topics.dispatch_subscriptions`), so the
ACL cannot drift from what the programs read.

The ACL and the credentials table are built by pure functions; the files are
written by ``write_broker_auth``, and ``hash_password_file`` is the one place
that runs an outside program (``mosquitto_passwd``). Regenerating keeps the
passwords already issued (read back from the credentials CSV) unless asked to
rotate them, so adding a unit does not mean re-provisioning every terminal.

    .venv/bin/python -m feeds.broker_auth data/helsinki/roster.csv OUT_DIR
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import secrets
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from feeds.topics import Topics

INGEST_USER = "dispatchmap-ingest"  # the workers are INGEST_USER-1 .. INGEST_USER-N
DISPATCH_USER = "dispatchmap-dispatch"
GATEWAY_USER = "dispatchmap-110"
JT808_USER = "dispatchmap-jt808"
INGEST_WORKERS = 4  # ingest users issued unless told otherwise
MOSQUITTO_PASSWD = os.environ.get("DM_MOSQUITTO_PASSWD_BIN", "mosquitto_passwd")
CREDENTIAL_FIELDS = (
    "username",
    "password",
    "kind",
    "unit_id",
    "device_id",
    "write_topics",
    "read_topics",
)
# Characters that would break a line of the ACL or password file, or turn a
# device's own topic into a wildcard covering other devices.
_FORBIDDEN = frozenset("+#:\x00") | frozenset(" \t\r\n")


@dataclass(frozen=True, slots=True)
class BrokerUser:
    """One broker account and the topics it may publish (write) and receive (read).

    ``kind`` is ``gps``, ``radio``, ``phone`` or ``service``; ``unit_id`` and
    ``device_id`` are empty for service users.
    """

    username: str
    kind: str
    unit_id: str
    device_id: str
    write: tuple[str, ...]
    read: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BrokerAuthPaths:
    """The files ``write_broker_auth`` wrote."""

    acl_file: Path
    password_file: Path
    credentials_csv: Path


def ingest_user(worker: int) -> str:
    """The broker user of ingest worker ``worker`` (1-based): ``dispatchmap-ingest-3``."""
    if worker < 1:
        raise ValueError(f"ingest worker numbers start at 1, not {worker}")
    return f"{INGEST_USER}-{worker}"


def _check_name(value: str, what: str, allow_slash: bool = False) -> str:
    if not value or _FORBIDDEN.intersection(value) or (not allow_slash and "/" in value):
        raise ValueError(f"{what} {value!r} cannot be a broker user or topic level")
    return value


def _phone_device(value: str) -> str:
    """The roster's ``owntracks/<user>/<device>``; exactly those three levels."""
    parts = _check_name(value, "phone_device", allow_slash=True).split("/")
    if len(parts) != 3 or parts[0] != "owntracks" or not all(parts[1:]):
        raise ValueError(f"phone_device {value!r} is not owntracks/<user>/<device>")
    return value


def device_users(row: Mapping[str, str], topics: Topics) -> list[BrokerUser]:
    """The broker users of one roster row: its tracker, radio and phone, where set.

    A tracker writes its native and NMEA feeds; a radio writes LIP, its status
    keys and its unit's acks, and reads its unit's orders; a phone writes its
    OwnTracks topic and its unit's acks, and reads its unit's orders and its
    topic's ``/cmd`` (remote commands). A phone has no status topic: the
    dispatcher reads status keys from ``{prefix}/status/+``, one topic level,
    and a phone's id has three; its keys go out as acks. The radio's ISSI is
    ``radio_issi`` (roster.csv) or ``radio_device`` (the database's roster).
    Empty device columns are skipped.
    """
    unit = _check_name(row.get("id", ""), "unit id")
    users = []
    orders, acks = topics.orders(unit), topics.acks(unit)
    if gps := (row.get("gps_device") or "").strip():
        _check_name(gps, "gps_device")
        users.append(BrokerUser(gps, "gps", unit, gps, (topics.gps(gps), topics.nmea(gps))))
    if issi := (row.get("radio_issi") or row.get("radio_device") or "").strip():
        _check_name(issi, "radio_issi")
        write = (topics.lip(issi), topics.status(issi), acks)
        users.append(BrokerUser(issi, "radio", unit, issi, write, (orders,)))
    if phone := (row.get("phone_device") or "").strip():
        own = topics.owntracks(_phone_device(phone))
        users.append(BrokerUser(phone, "phone", unit, phone, (own, acks), (orders, f"{own}/cmd")))
    return users


def service_users(topics: Topics, ingest_workers: int = INGEST_WORKERS) -> list[BrokerUser]:
    """The ingest workers, the dispatcher, the 110 gateway and the JT/T 808
    gateway (which republishes its terminals' frames and their emergency
    alarm bit as a status key; it is a service we run, so it may write any
    terminal's status topic).

    Read grants are the workers' own subscription filters. Mosquitto 2.0
    checks ``topic read`` against the topic of each message it would deliver
    (it grants any subscription), so a shared subscription
    ``$share/<group>/<filter>`` is judged by the underlying topics and the
    same lines serve workers that split the feed with ``share_group``. The
    dispatcher writes one unit's orders at a time (``{prefix}/orders/+``).
    """
    if ingest_workers < 1:
        raise ValueError(f"at least one ingest worker needs a user, not {ingest_workers}")
    feeds = tuple(topics.subscriptions())
    users = [
        BrokerUser(ingest_user(i), "service", "", "", (), feeds)
        for i in range(1, ingest_workers + 1)
    ]
    reads = tuple(topics.dispatch_subscriptions())
    users.append(BrokerUser(DISPATCH_USER, "service", "", "", (topics.orders("+"),), reads))
    users.append(BrokerUser(GATEWAY_USER, "service", "", "", (topics.incidents(),)))
    jt808 = (topics.jt808("+"), topics.status("+"))
    users.append(BrokerUser(JT808_USER, "service", "", "", jt808))
    return users


def broker_users(
    rows: Iterable[Mapping[str, str]], topics: Topics, ingest_workers: int = INGEST_WORKERS
) -> list[BrokerUser]:
    """Every broker user for a roster: the devices in roster order, then the services.

    Raises ValueError when two accounts would share a name (a device id listed
    twice, or equal to another kind's id), since they would share a password.
    """
    users = [u for row in rows for u in device_users(row, topics)]
    users += service_users(topics, ingest_workers)
    seen: set[str] = set()
    for user in users:
        if user.username in seen:
            raise ValueError(f"broker user {user.username!r} appears twice in the roster")
        seen.add(user.username)
    return users


def acl_text(users: Sequence[BrokerUser]) -> str:
    """The Mosquitto ``acl_file`` for ``users``.

    Nothing precedes the first ``user`` line, so an anonymous client (were
    anonymous ever allowed) could do nothing; no ``pattern`` lines either, so
    no rule applies to everyone.
    """
    lines = [
        "# Mosquitto ACL for dispatchmap, generated by feeds.broker_auth from the roster.",
        "# Do not edit by hand: regenerate it (deploy/mosquitto/README.md) and reload.",
    ]
    for user in users:
        label = f"{user.kind} {user.unit_id or user.username}"
        lines += ["", f"# {label}", f"user {user.username}"]
        lines += [f"topic write {topic}" for topic in user.write]
        lines += [f"topic read {topic}" for topic in user.read]
    return "\n".join(lines) + "\n"


def new_password() -> str:
    """A random password: 32 URL-safe characters (192 bits), never a ``:``."""
    return secrets.token_urlsafe(24)


def assign_passwords(users: Sequence[BrokerUser], known: Mapping[str, str]) -> dict[str, str]:
    """Username -> password: the ``known`` one where there is one, else a new one."""
    return {u.username: known.get(u.username) or new_password() for u in users}


def credentials_csv(users: Sequence[BrokerUser], passwords: Mapping[str, str]) -> str:
    """The table the people who provision terminals work from (one row a user)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, CREDENTIAL_FIELDS, lineterminator="\n")
    writer.writeheader()
    for u in users:
        writer.writerow(
            {
                "username": u.username,
                "password": passwords[u.username],
                "kind": u.kind,
                "unit_id": u.unit_id,
                "device_id": u.device_id,
                "write_topics": " ".join(u.write),
                "read_topics": " ".join(u.read),
            }
        )
    return out.getvalue()


def read_credentials(path: Path) -> list[dict[str, str]]:
    """The rows of a credentials CSV written by :func:`write_broker_auth`, in its order."""
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def read_known_passwords(path: Path) -> dict[str, str]:
    """Username -> password from an earlier credentials CSV; empty if there is none."""
    if not path.exists():
        return {}
    return {row["username"]: row["password"] for row in read_credentials(path)}


def _write_private(path: Path, text: str, mode: int) -> None:
    """Write ``text`` to a file created with ``mode`` (also when it existed before)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", newline="") as fh:
        os.fchmod(fh.fileno(), mode)
        fh.write(text)


def hash_password_file(path: Path, program: str = MOSQUITTO_PASSWD) -> None:
    """Turn a plaintext ``user:password`` file into Mosquitto's hashed format, in place.

    Uses ``mosquitto_passwd -U`` rather than ``-b`` so no password appears on a
    command line (visible in ``ps``). Raises RuntimeError if the program fails
    or is missing.
    """
    try:
        done = subprocess.run([program, "-U", str(path)], capture_output=True, text=True)
    except FileNotFoundError as exc:
        raise RuntimeError(f"{program} not found: install mosquitto (`make setup`)") from exc
    if done.returncode != 0:
        raise RuntimeError(f"{program} -U failed ({done.returncode}): {done.stderr.strip()}")


def write_broker_auth(
    roster_rows: Iterable[Mapping[str, str]],
    out_dir: Path,
    topics: Topics | None = None,
    rotate: bool = False,
    ingest_workers: int = INGEST_WORKERS,
) -> BrokerAuthPaths:
    """Write ``acl``, ``passwd`` (hashed) and ``credentials.csv`` into ``out_dir``.

    ``credentials.csv`` holds the plaintext passwords and is mode 0600; ``acl``
    and ``passwd`` are 0640 so the broker's group can read them after a
    ``chgrp mosquitto``. Passwords already in ``credentials.csv`` are kept
    unless ``rotate``; users no longer in the roster disappear from all files.
    """
    topics = topics or Topics()
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = BrokerAuthPaths(out_dir / "acl", out_dir / "passwd", out_dir / "credentials.csv")
    users = broker_users(roster_rows, topics, ingest_workers)
    known = {} if rotate else read_known_passwords(paths.credentials_csv)
    passwords = assign_passwords(users, known)
    _write_private(paths.acl_file, acl_text(users), 0o640)
    _write_private(paths.credentials_csv, credentials_csv(users, passwords), 0o600)
    plain = "".join(f"{name}:{password}\n" for name, password in passwords.items())
    _write_private(paths.password_file, plain, 0o600)
    hash_password_file(paths.password_file)
    paths.password_file.chmod(0o640)
    return paths


def read_roster(path: Path) -> list[dict[str, str]]:
    """The rows of a ``roster.csv`` (as in ``data/helsinki``)."""
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m feeds.broker_auth",
        description="Write the Mosquitto password file, ACL and credentials table for a roster.",
    )
    parser.add_argument("roster", type=Path, help="roster.csv (as in data/helsinki)")
    parser.add_argument("out_dir", type=Path, help="folder for acl, passwd and credentials.csv")
    parser.add_argument("--prefix", default="dm", help="topic prefix of the dm feeds")
    parser.add_argument("--owntracks-prefix", default="owntracks", help="OwnTracks topic prefix")
    parser.add_argument(
        "--rotate", action="store_true", help="issue new passwords to every user, old ones too"
    )
    parser.add_argument(
        "--ingest-workers",
        type=int,
        default=INGEST_WORKERS,
        help="ingest users to issue (dispatchmap-ingest-1 .. -N), one per worker process",
    )
    args = parser.parse_args(argv)
    topics = Topics(args.prefix, args.owntracks_prefix)
    rows = read_roster(args.roster)
    paths = write_broker_auth(rows, args.out_dir, topics, args.rotate, args.ingest_workers)
    for path in (paths.acl_file, paths.password_file, paths.credentials_csv):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
