"""Devices tied to no unit are read with their latest fix, and the live layer
answers only when what it shows changed."""

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dashboard.callbacks.devices import untied_update
from dashboard.deps import Deps
from dispatchmap.settings import DashboardSettings, PresenceSettings
from feeds.pipeline import Limits, Message, Pipeline
from feeds.topics import Topics
from feeds.writer import Writer, ingest_batch
from geo import queries
from store.db import open_pool

NOW = datetime.now(UTC).replace(microsecond=0)
HOUR_S = 3600.0


def store(conn, topic: str, body: dict) -> None:
    with conn.transaction():
        outcomes, _ = ingest_batch(
            conn,
            Pipeline(Topics(), Limits()),
            Writer(),
            [Message(topic, json.dumps(body).encode(), NOW)],
        )
    assert outcomes[0].rejection is None and outcomes[0].fixes, outcomes


def native(lat: float, at: datetime) -> dict:
    return {"lat": lat, "lon": 24.94, "ts": at.isoformat(), "speed_kmh": 12.4}


def owntracks(at: datetime) -> dict:
    return {
        "_type": "location",
        "lat": 60.171,
        "lon": 24.945,
        "tst": int(at.timestamp()),
        "acc": 8,
        "vel": 5,
    }


def test_untied_devices_are_the_unknown_and_the_roster_devices_without_a_unit(conn):
    with conn.transaction():
        conn.execute(
            "INSERT INTO devices (id, unit_id, kind, format) "
            "VALUES ('owntracks/spare/phone', NULL, 'phone', 'owntracks')"
        )
    store(conn, "owntracks/spare/phone", owntracks(NOW - timedelta(seconds=30)))
    store(conn, "dm/gps/stranger", native(60.17, NOW - timedelta(seconds=90)))
    store(conn, "dm/gps/trk-c01", native(60.17, NOW))  # C-01's tracker: tied
    store(conn, "dm/gps/old-stranger", native(60.17, NOW - timedelta(hours=2)))

    rows = {r["device_id"]: r for r in queries.untied_devices(conn, NOW, HOUR_S)}

    assert sorted(rows) == ["owntracks/spare/phone", "stranger"]
    phone, stranger = rows["owntracks/spare/phone"], rows["stranger"]
    assert (phone["kind"], phone["format"], phone["acc_m"], phone["fix_age_s"]) == (
        "phone",
        "owntracks",
        8.0,
        30.0,
    )
    assert phone["speed_kmh"] == 5.0
    assert (stranger["kind"], stranger["format"], stranger["acc_m"]) == ("unknown", "native", None)
    assert stranger["fix_at"] == NOW - timedelta(seconds=90)
    assert stranger["speed_kmh"] == pytest.approx(12.4)
    assert (round(stranger["lon"], 6), round(stranger["lat"], 6)) == (24.94, 60.17)
    # A longer window takes the old one in; tying a device to a unit takes it out.
    assert "old-stranger" in {r["device_id"] for r in queries.untied_devices(conn, NOW, 3 * HOUR_S)}
    with conn.transaction():
        conn.execute("UPDATE devices SET unit_id = 'U002' WHERE id = 'stranger'")
    assert [r["device_id"] for r in queries.untied_devices(conn, NOW, HOUR_S)] == [
        "owntracks/spare/phone"
    ]


def test_a_window_that_is_not_positive_is_refused(conn):
    with pytest.raises(ValueError, match="max_age_s must be positive"):
        queries.untied_devices(conn, NOW, 0)


def test_the_layer_answers_only_when_a_device_fix_or_presence_changed(db_url, conn):
    store(conn, "dm/gps/stranger", native(60.17, NOW - timedelta(seconds=10)))
    pool = open_pool(db_url, max_size=1)
    deps = Deps(pool, DashboardSettings(), PresenceSettings(), ZoneInfo("Europe/Helsinki"))
    try:
        first = untied_update(deps, None, NOW)
        assert first is not None
        layer, key = first
        assert [f["properties"]["id"] for f in layer["features"]] == ["stranger"]
        assert untied_update(deps, key, NOW + timedelta(seconds=5)) is None
        # Past the stale threshold the presence changes, so the layer is redrawn.
        stale, stale_key = untied_update(deps, key, NOW + timedelta(seconds=120)) or ({}, "")
        assert stale["features"][0]["properties"]["presence"] == "stale" and stale_key != key
        store(conn, "dm/gps/stranger", native(60.171, NOW))
        moved, moved_key = untied_update(deps, key, NOW + timedelta(seconds=5)) or ({}, "")
        assert moved["features"][0]["geometry"]["coordinates"][1] == pytest.approx(60.171)
        assert moved_key not in (key, stale_key)
    finally:
        pool.close()
