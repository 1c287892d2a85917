"""The live map's changed-since query: after a read, the next read returns the
units that moved, changed status, or whose fix aged past a threshold in
between, and nothing else."""

import json
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from feeds.pipeline import Limits, Message, Pipeline
from feeds.topics import Topics
from feeds.writer import Writer, ingest_batch
from geo import queries
from store import orders as order_store

NOW = datetime.now(UTC).replace(microsecond=0)
STALE_S, OFFLINE_S = 60.0, 600.0


def store(conn: psycopg.Connection, device: str, at: datetime, lat: float = 60.17) -> None:
    body = json.dumps({"lat": lat, "lon": 24.94, "ts": at.isoformat()}).encode()
    with conn.transaction():
        ingest_batch(
            conn, Pipeline(Topics(), Limits()), Writer(), [Message(f"dm/gps/{device}", body, NOW)]
        )


def read(
    db_url: str, now: datetime, since: queries.UnitChanges | None, since_at: datetime | None
) -> queries.UnitChanges:
    # Its own autocommit connection, as a dashboard worker reads.
    with psycopg.connect(db_url, autocommit=True) as reader:
        return queries.unit_changes(
            reader, now, since_at, since.snapshot_xmin if since else None, STALE_S, OFFLINE_S
        )


def call_signs(changes: queries.UnitChanges) -> list[str]:
    return [r["call_sign"] for r in changes.rows]


def test_a_moved_unit_and_one_that_just_went_stale_are_returned_and_no_other(conn, db_url):
    store(conn, "trk-c01", NOW - timedelta(seconds=10))
    store(conn, "trk-c02", NOW - timedelta(seconds=50))  # online now, stale 15 s later
    store(conn, "trk-c03", NOW - timedelta(seconds=5))
    first = read(db_url, NOW, None, None)
    assert call_signs(first) == ["C-01", "C-02", "C-03"]  # a first load: every unit with a fix
    assert first.units_with_fix == 3
    assert first.rows[0]["lat"] == pytest.approx(60.17) and first.rows[0]["fix_age_s"] == 10.0

    store(conn, "trk-c01", NOW, lat=60.171)
    later = NOW + timedelta(seconds=15)
    second = read(db_url, later, first, NOW)
    assert call_signs(second) == ["C-01", "C-02"]  # C-03 neither moved nor crossed a threshold
    assert second.rows[0]["lat"] == pytest.approx(60.171)
    assert second.units_with_fix == 3

    third = read(db_url, later + timedelta(seconds=1), second, later)
    assert third.rows == [] and third.units_with_fix == 3  # nothing changed: no rows


def test_a_status_change_and_the_offline_threshold_are_changes(conn, db_url):
    store(conn, "trk-c01", NOW - timedelta(seconds=595))
    store(conn, "trk-c03", NOW - timedelta(seconds=5))
    first = read(db_url, NOW, None, None)
    with conn.transaction():
        order_store.set_unit_status(conn, "U003", "busy", datetime.now(UTC))
    later = NOW + timedelta(seconds=10)  # C-01's fix is now 605 s old: offline
    second = read(db_url, later, first, NOW)
    assert {r["call_sign"]: r["status"] for r in second.rows} == {
        "C-01": "available",
        "C-03": "busy",
    }


def test_a_fix_that_was_stored_while_the_read_ran_is_sent_next_time(conn, db_url):
    # The writer's transaction is open (its xid assigned, not committed) when
    # the map reads: the read cannot see the fix, the next one must.
    store(conn, "trk-c03", NOW - timedelta(seconds=5))
    with psycopg.connect(db_url) as writer:
        store(writer, "trk-c01", NOW - timedelta(seconds=30))
        with writer.transaction():
            ingest_batch(
                writer,
                Pipeline(Topics(), Limits()),
                Writer(),
                [
                    Message(
                        "dm/gps/trk-c01",
                        json.dumps({"lat": 60.172, "lon": 24.94, "ts": NOW.isoformat()}).encode(),
                        NOW,
                    )
                ],
            )
            during = read(db_url, NOW, None, None)
        assert [r["lat"] for r in during.rows if r["call_sign"] == "C-01"] == [pytest.approx(60.17)]
    after = read(db_url, NOW + timedelta(seconds=1), during, NOW)
    assert call_signs(after) == ["C-01"]
    assert after.rows[0]["lat"] == pytest.approx(60.172)


def test_a_version_without_its_snapshot_is_refused(conn):
    with pytest.raises(ValueError, match="since_xmin"):
        queries.unit_changes(conn, NOW, NOW, None, STALE_S, OFFLINE_S)
