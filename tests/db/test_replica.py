"""The dashboard reading from a real hot standby (pg_basebackup of a primary
of the test's own onto another port): the pages' reads go to the replica
while it keeps up, to the primary while its replay is paused (the wall says
so) or while it is away, and back to the replica when it is fit again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from dashboard import ids
from dashboard.app import create_app
from dashboard.reads import ReadSource
from dispatchmap.cli import load_city
from dispatchmap.runtime import create_database
from dispatchmap.services import EmbeddedPostgres
from dispatchmap.settings import DashboardSettings, PresenceSettings
from geo.intake import NewIncident
from store.db import open_pool
from store.migrate import upgrade
from store.roles import role_url
from tests.conftest import wait_until
from tests.dash_calls import call_body, callback_key
from usecases import incidents as inc


@pytest.fixture
def clusters(tmp_path: Path) -> Iterator[tuple[str, EmbeddedPostgres]]:
    """(the primary database's URL, the running standby)."""
    with EmbeddedPostgres(tmp_path / "primary", {"full_page_writes": "on"}) as primary:
        url = create_database(primary.url, "dispatchmap")
        with psycopg.connect(url) as conn:
            upgrade(conn)
        load_city(url, None, None, 1)
        standby = EmbeddedPostgres(tmp_path / "standby")
        standby.start_replica_of(primary)
        try:
            yield url, standby
        finally:
            standby.stop()


def incidents_seen(reads: ReadSource) -> tuple[int, bool]:
    """(incidents visible, whether read on a standby)."""
    with reads.connection() as conn:
        row = conn.execute("SELECT count(*), pg_is_in_recovery() FROM incidents").fetchone()
    assert row is not None
    return int(row[0]), bool(row[1])


def new_incident(url: str) -> None:
    with psycopg.connect(url) as conn:
        now = datetime.now(UTC)
        inc.create_incident(
            conn, NewIncident("assault", 1, 24.9452, 60.169, now, "", None), "110", "110", now
        )


def test_reads_follow_the_replica_while_it_keeps_up(clusters):
    url, standby = clusters
    replica_url = url.replace(url.split("@")[1].split("/")[0], f"127.0.0.1:{standby.port}")
    pool = open_pool(role_url(url, "dashboard"), max_size=2)
    read_pool = open_pool(role_url(replica_url, "dashboard"), max_size=2, wait=False)
    reads = ReadSource(pool, read_pool, max_lag_s=1.0, check_every_s=0.0)
    settings = DashboardSettings(demo=True)
    app = create_app(settings, PresenceSettings(), pool, read_pool)
    client = app.server.test_client()
    tick = callback_key(app, ids.TICK, output=ids.CLOCK)

    def wall_clock() -> str:
        body = call_body(app, tick, {ids.TICK: 1}, [f"{ids.TICK}.n_intervals"])
        answer = client.post("/_dash-update-component", json=body)
        assert answer.status_code == 200
        return str(answer.get_json()["response"][ids.CLOCK]["children"])

    try:
        new_incident(url)
        # Fit: read on the standby, once it has replayed the new incident.
        wait_until(lambda: incidents_seen(reads) == (1, True), 20, message="the replica")
        assert "primary" not in wall_clock()
        # Replay paused: the replica falls behind and the primary is read,
        # so the new incident is seen at once, and the wall says why.
        with psycopg.connect(replica_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as su:
            su.execute("SELECT pg_wal_replay_pause()")
            new_incident(url)
            wait_until(lambda: incidents_seen(reads) == (2, False), 20, message="the primary")
            assert reads.state.startswith("primary: replica") and "behind" in reads.state
            wait_until(lambda: "reading from the primary" in wall_clock(), 20, message="the wall")
            su.execute("SELECT pg_wal_replay_resume()")
        wait_until(lambda: incidents_seen(reads) == (2, True), 20, message="the replica again")
        # Away: the primary answers, nothing fails.
        standby.stop()
        wait_until(lambda: incidents_seen(reads) == (2, False), 20, message="replica away")
        assert reads.state == "primary: replica away"
        assert "reading from the primary (replica away)" in wall_clock()
    finally:
        read_pool.close()
        pool.close()
