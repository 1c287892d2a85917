"""Presence is queryable: by device (roster or not) and by unit, at any moment."""

import json
from datetime import UTC, datetime, timedelta

from feeds.pipeline import Limits, Message, Pipeline
from feeds.topics import Topics
from feeds.writer import Writer, ingest_batch
from geo import queries

NOW = datetime.now(UTC).replace(microsecond=0)


def store(conn, device: str, at: datetime) -> None:
    body = json.dumps({"lat": 60.17, "lon": 24.94, "ts": at.isoformat()}).encode()
    with conn.transaction():
        ingest_batch(
            conn, Pipeline(Topics(), Limits()), Writer(), [Message(f"dm/gps/{device}", body, NOW)]
        )


def test_presence_by_device_and_unit_at_the_thresholds(conn):
    store(conn, "trk-c01", NOW - timedelta(seconds=60))  # exactly stale_s: still online
    store(conn, "trk-c02", NOW - timedelta(seconds=61))  # stale
    store(conn, "trk-c03", NOW - timedelta(seconds=601))  # offline
    store(conn, "stranger", NOW)  # not on the roster
    devices = {r["device_id"]: r for r in queries.device_presence(conn, NOW, 60, 600)}
    assert devices["trk-c01"]["presence"] == "online"
    assert devices["trk-c02"]["presence"] == "stale"
    assert devices["trk-c03"]["presence"] == "offline"
    assert devices["trk-c04"]["presence"] == "no_fix"
    assert devices["stranger"]["unit_id"] is None and devices["stranger"]["presence"] == "online"
    assert devices["trk-c02"]["fix_age_s"] == 61.0
    units = {r["call_sign"]: r["presence"] for r in queries.unit_presence(conn, NOW, 60, 600)}
    assert (units["C-01"], units["C-02"], units["C-03"], units["F-01"]) == (
        "online",
        "stale",
        "offline",
        "no_fix",
    )
    later = {
        r["call_sign"]: r["presence"]
        for r in queries.unit_presence(conn, NOW + timedelta(hours=1), 60, 600)
    }
    assert later["C-01"] == "offline"
