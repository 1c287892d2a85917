"""`dispatchmap db upgrade` as a database owner that is not a superuser (as
the demo's private cluster has it), on a cluster where the program roles do
not exist yet: twice, and on two databases at once."""

from __future__ import annotations

import os
import subprocess
import sys

import psycopg

from dispatchmap.runtime import create_database, create_owned_database
from dispatchmap.services import EmbeddedPostgres
from store import migrate
from store.roles import ROLES, role_url


def upgrade(url: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "dispatchmap.cli", "db", "upgrade"],
        env={**os.environ, "DATABASE_URL": url, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_upgrade_concurrently_on_two_databases_then_again(tmp_path):
    with EmbeddedPostgres(tmp_path / "pg") as pg:
        urls = [create_owned_database(pg.url, name, "dmtest_owner") for name in ("da", "db")]
        with psycopg.connect(urls[0]) as conn:
            assert conn.execute(
                "SELECT rolsuper, count(*) OVER () FROM pg_roles"
                " WHERE rolname = current_user OR rolname LIKE 'dm\\_%'"
            ).fetchall() == [(False, 1)]
        running = [upgrade(url) for url in urls]
        outputs = [p.communicate(timeout=120)[0] for p in running]
        assert [p.returncode for p in running] == [0, 0], outputs
        again = upgrade(urls[0], DM_INGEST_DB_PASSWORD="a test secret")
        out = again.communicate(timeout=120)[0]
        assert again.returncode == 0 and "applied 0 migration(s)" in out, out
        assert "password of role dm_ingest set" in out
        with psycopg.connect(pg.url) as admin:
            stored = admin.execute(
                "SELECT rolpassword FROM pg_authid WHERE rolname = 'dm_ingest'"
            ).fetchone()
            assert stored is not None and stored[0].startswith("SCRAM-SHA-256$")
        for url in urls:
            for program in ROLES:
                with psycopg.connect(role_url(url, program)) as conn:
                    conn.execute(
                        "INSERT INTO audit_log (actor, action, ok) VALUES ('t', 't', true)"
                    )
            with psycopg.connect(url) as conn:
                tables = conn.execute(
                    "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
                    " AND tableowner <> current_user"
                ).fetchone()
                assert tables == (1,)  # spatial_ref_sys, PostGIS's own


def test_a_demo_database_made_by_the_superuser_is_handed_to_the_owner(tmp_path):
    """A demo state folder from before the owner role: its tables belong to
    the superuser until the demo's set-up hands them over; then the owner's
    upgrade (which alters the logs) runs."""
    with EmbeddedPostgres(tmp_path / "pg") as pg:
        old = create_database(pg.url, "dispatchmap")
        with psycopg.connect(old) as conn, conn.transaction():
            migrate.applied(conn)
            for m in migrate.shipped():
                if m.version < 10:
                    conn.execute(m.sql.encode())
                    conn.execute(
                        "INSERT INTO schema_migrations (version, name, sha256) VALUES (%s, %s, %s)",
                        (m.version, m.name, m.sha256),
                    )
        url = create_owned_database(pg.url, "dispatchmap", "dmtest_owner")
        done = upgrade(url)
        out = done.communicate(timeout=120)[0]
        assert done.returncode == 0 and "010_records" in out, out
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT current_user").fetchone() == ("dmtest_owner",)
            owners = conn.execute(
                "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'"
                " AND tablename <> 'spatial_ref_sys'"
            ).fetchall()
            assert owners == [("dmtest_owner",)]
