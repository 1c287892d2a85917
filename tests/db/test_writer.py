"""The batch writer against a real PostGIS: dedupe, late fixes, unknown devices, quarantine."""

import json
from datetime import UTC, datetime, timedelta

from feeds.pipeline import Limits, Message, Pipeline
from feeds.topics import Topics
from feeds.writer import Writer, ingest_batch

NOW = datetime.now(UTC).replace(microsecond=0)


def msg(
    device: str, at: datetime, lat: float = 60.17, lon: float = 24.94, topic: str = ""
) -> Message:
    body = json.dumps({"lat": lat, "lon": lon, "ts": at.isoformat()}).encode()
    return Message(topic or f"dm/gps/{device}", body, NOW)


def write(conn, messages, limits=None):
    with conn.transaction():
        return ingest_batch(conn, Pipeline(Topics(), limits or Limits()), Writer(), messages)[1]


def test_positions_history_and_latest_per_unit(conn):
    result = write(
        conn,
        [msg("trk-c01", NOW - timedelta(seconds=2), lat=60.170), msg("trk-c01", NOW, lat=60.171)],
    )
    assert (result.positions, result.duplicates, result.quarantined) == (2, 0, 0)
    history = conn.execute("SELECT unit_id, ST_Y(geom) FROM positions ORDER BY fix_at").fetchall()
    assert history == [("U001", 60.170), ("U001", 60.171)]
    latest = conn.execute("SELECT unit_id, ST_Y(geom), fix_at FROM unit_latest").fetchall()
    assert latest == [("U001", 60.171, NOW)]


def test_redelivered_fix_is_stored_once_and_the_copies_accounted_for(conn):
    m = msg("trk-c01", NOW)
    first = write(conn, [m, m])
    again = write(conn, [m])
    assert (first.positions, first.duplicates) == (1, 1)
    assert (again.positions, again.duplicates, again.quarantined) == (0, 1, 1)
    assert conn.execute("SELECT count(*) FROM positions").fetchone() == (1,)
    assert conn.execute("SELECT reason, count(*) FROM quarantine GROUP BY 1").fetchall() == [
        ("duplicate", 2)
    ]


def test_a_different_fix_at_a_stored_time_is_a_conflict_not_a_duplicate(conn):
    write(conn, [msg("trk-c01", NOW, lat=60.1700)])
    result = write(
        conn,
        [
            msg("trk-c01", NOW, lat=60.1700),  # the same fix again
            msg("trk-c01", NOW, lat=60.1710),  # another place, same second
            msg("trk-c02", NOW, lat=60.1800),
            msg("trk-c02", NOW, lat=60.1805),  # a conflict inside one batch
        ],
    )
    assert (result.positions, result.duplicates, result.quarantined) == (1, 3, 3)
    reasons = conn.execute(
        "SELECT device_id, reason, detail FROM quarantine ORDER BY id"
    ).fetchall()
    assert [r[:2] for r in reasons] == [
        ("trk-c01", "duplicate"),
        ("trk-c01", "conflicting_fix"),
        ("trk-c02", "conflicting_fix"),
    ]
    assert "stored at lat=60.18 " in reasons[2][2]


def test_late_fix_goes_to_history_but_never_moves_the_marker_back(conn):
    write(conn, [msg("trk-c01", NOW, lat=60.175)])
    write(conn, [msg("trk-c01", NOW - timedelta(seconds=30), lat=60.165)])
    assert conn.execute("SELECT count(*) FROM positions").fetchone() == (2,)
    assert conn.execute("SELECT ST_Y(geom) FROM unit_latest").fetchone() == (60.175,)
    assert conn.execute("SELECT ST_Y(geom) FROM device_latest").fetchone() == (60.175,)


def test_unknown_device_is_kept_and_registered(conn):
    write(conn, [msg("stranger-9", NOW)])
    assert conn.execute(
        "SELECT unit_id, kind, format FROM devices WHERE id = 'stranger-9'"
    ).fetchone() == (None, "unknown", "native")
    assert conn.execute("SELECT device_id, unit_id FROM device_latest").fetchall() == [
        ("stranger-9", None)
    ]
    assert conn.execute("SELECT count(*) FROM unit_latest").fetchone() == (0,)


def test_refused_messages_are_kept_whole_with_their_reason(conn):
    bad = Message("dm/gps/trk-c01", b"\x00not json", NOW)
    zero = msg("trk-c01", NOW, lat=0.0, lon=0.0)
    result = write(conn, [bad, zero, msg("trk-c01", NOW)])
    assert (result.positions, result.quarantined) == (1, 2)
    rows = conn.execute(
        "SELECT topic, device_id, payload, reason FROM quarantine ORDER BY id"
    ).fetchall()
    assert rows == [
        ("dm/gps/trk-c01", "trk-c01", b"\x00not json", "undecodable"),
        ("dm/gps/trk-c01", "trk-c01", zero.payload, "zero_fix"),
    ]


def test_fixes_across_midnight_land_in_their_day_partitions(conn):
    day = datetime(2026, 5, 1, 23, 59, 59, tzinfo=UTC)
    pipeline = Pipeline(Topics(), Limits(max_age_s=10 * 365 * 86400))
    outcomes = [
        pipeline.process(
            Message(
                "dm/gps/trk-c01",
                json.dumps(
                    {"lat": 60.17, "lon": 24.94, "ts": (day + timedelta(seconds=s)).isoformat()}
                ).encode(),
                day + timedelta(seconds=5),
            )
        )
        for s in (0, 2)
    ]
    with conn.transaction():
        Writer().write(conn, outcomes)  # partitions are the writer's own job
    parts = conn.execute(
        "SELECT tableoid::regclass::text, count(*) FROM positions GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert parts == [("positions_20260501", 1), ("positions_20260502", 1)]


def owntracks(at: datetime, lat: float) -> Message:
    body = {"_type": "location", "lat": lat, "lon": 24.94, "tst": int(at.timestamp())}
    return Message("owntracks/f01/phone", json.dumps(body).encode(), NOW)


def test_gps_jump_is_judged_against_the_stored_track_by_unit_kind(conn):
    before = NOW - timedelta(seconds=10)
    write(conn, [msg("trk-c01", before), owntracks(before, 60.17)])
    # A new Writer and Pipeline: the last fixes come from the database.
    result = write(
        conn,
        [
            msg("trk-c01", NOW, lat=60.17 + 0.009),  # car: 1 km in 10 s = 360 km/h
            msg("trk-c01", NOW + timedelta(seconds=1), lat=60.1702),  # car: 22 m in 11 s
            owntracks(NOW, 60.17 + 0.0018),  # foot: 200 m in 10 s = 72 km/h
        ],
    )
    assert (result.positions, result.quarantined) == (1, 2)
    rows = conn.execute("SELECT device_id, reason FROM quarantine ORDER BY id").fetchall()
    assert rows == [("trk-c01", "gps_jump"), ("owntracks/f01/phone", "gps_jump")]


def test_poor_accuracy_and_outside_area_are_refused(conn):
    sloppy = Message(
        "dm/gps/trk-c01",
        json.dumps({"lat": 60.17, "lon": 24.94, "ts": NOW.isoformat(), "acc_m": 900}).encode(),
        NOW,
    )
    away = msg("trk-c02", NOW, lat=61.5)
    write(conn, [sloppy, away], Limits(max_acc_m=100, area=(24.9, 60.1, 25.0, 60.2)))
    assert sorted(r for (r,) in conn.execute("SELECT reason FROM quarantine")) == [
        "outside_area",
        "poor_accuracy",
    ]
