"""Camera health against simulated cameras that really stream: a camera
that stops is no signal, one that stops answering is unreachable, each
raises a low alarm on the wall (cleared when it is back), and the
dispatcher's alarm timers leave those alarms alone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from feeds.camera_health import HealthLimits, check_round
from feeds.camera_sim import CameraSim
from store import alarms as alarm_store
from store import cameras
from store.roles import role_url
from tests.conftest import wait_until
from usecases import alarms

LIMITS = HealthLimits(interval_s=0.5, timeout_s=2.0, stale_s=2.5, parallel=4)


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[CameraSim]:
    cams = CameraSim(tmp_path / "hls", ["CAM01", "CAM02"])
    cams.start()
    yield cams
    cams.stop()


def statuses(conn: psycopg.Connection, ids: tuple[str, ...]) -> dict[str, str]:
    verdicts = check_round(conn, LIMITS)
    return {c: verdicts[c].status for c in ids}


def open_camera_alarms(conn: psycopg.Connection) -> dict[str, int]:
    return {a["camera_id"]: a["severity"] for a in alarm_store.open_alarms(conn) if a["camera_id"]}


def events(conn: psycopg.Connection, kind: str, after_id: int) -> list[dict[str, object]]:
    with conn.cursor(row_factory=dict_row) as cur:
        query = "SELECT data FROM events WHERE kind = %s AND id > %s ORDER BY id"
        return [r["data"] for r in cur.execute(query, (kind, after_id)).fetchall()]


def last_event_id(conn: psycopg.Connection) -> int:
    row = conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()
    return int(row[0]) if row else 0


def test_health_follows_a_simulated_camera_that_stops_and_comes_back(db_url, sim) -> None:
    with psycopg.connect(db_url, autocommit=True) as owner:
        cameras.set_stream_url(owner, "CAM01", sim.url("CAM01"))
        secret = sim.url("CAM02").replace("http://", "http://viewer:s3cret@")
        cameras.set_stream_url(owner, "CAM02", secret)
    pair = ("CAM01", "CAM02")
    # As the role it runs as in production: the dispatcher's.
    with psycopg.connect(role_url(db_url, "dispatcher"), autocommit=True) as conn:
        wait_until(lambda: statuses(conn, pair) == dict.fromkeys(pair, "online"), 20)
        unchecked = check_round(conn, LIMITS)["CAM03"]  # still rtsp:// in the sample city
        assert unchecked.status == "unchecked" and not unchecked.dark
        assert open_camera_alarms(conn) == {}
        # (A camera still starting, its first segment not written, was dark.)
        mark = last_event_id(conn)

        sim.stop_camera("CAM01", "no_signal")
        sim.stop_camera("CAM02", "unreachable")
        wait_until(lambda: statuses(conn, pair) == {"CAM01": "no_signal", "CAM02": "unreachable"})
        assert open_camera_alarms(conn) == {"CAM01": 3, "CAM02": 3}
        # The dispatcher's timers clear what is no longer due; not these.
        alarms.evaluate(conn, datetime.now(UTC), alarms.Thresholds())
        assert open_camera_alarms(conn) == {"CAM01": 3, "CAM02": 3}

        sim.start_camera("CAM01")
        wait_until(lambda: statuses(conn, pair)["CAM01"] == "online", 20)
        assert open_camera_alarms(conn) == {"CAM02": 3}
        raised = events(conn, "alarm_raised", mark)
        cleared = events(conn, "alarm_cleared", mark)
    assert sorted(e["camera_id"] for e in raised) == ["CAM01", "CAM02"]  # once each
    assert [e["camera_id"] for e in cleared] == ["CAM01"]
    with psycopg.connect(db_url) as owner:
        health = {h["camera_id"]: h for h in cameras.camera_health(owner)}
        stored = owner.execute("SELECT string_agg(detail, ' ') FROM camera_health").fetchone()
    assert health["CAM02"]["status"] == "unreachable" and health["CAM02"]["detail"] == "HTTP 404"
    assert health["CAM01"]["changed_at"] > health["CAM02"]["changed_at"]
    assert stored is not None and "s3cret" not in str(stored[0])
