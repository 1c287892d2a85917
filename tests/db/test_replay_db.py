"""Replay storage against the real database: windows and seeks across a
midnight partition boundary agree with the pure replay on the full tracks, and
retention drops exactly the day partitions past the retention."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest

from geo import replay, retention
from geo.replay import Fix, Track
from store import replay as replay_store
from usecases.retention import drop_old_partitions

MIDNIGHT = datetime(2026, 3, 2, tzinfo=UTC)
STALE_S = 60.0


def at(seconds: float) -> datetime:
    return MIDNIGHT + timedelta(seconds=seconds)


def insert(conn: psycopg.Connection, unit_id: str, fixes: list[Fix]) -> None:
    days = [f.fix_at.date() for f in fixes]
    conn.execute("SELECT ensure_position_partitions(%s, %s)", (min(days), max(days)))
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO positions (device_id, unit_id, fix_at, received_at, geom, speed_kmh,"
            " heading_deg, source) VALUES (%s, %s, %s, %s, ST_SetSRID(ST_MakePoint(%s, %s),"
            " 4326), %s, %s, 'native')",
            [
                (
                    f"dev-{unit_id}",
                    unit_id,
                    f.fix_at,
                    f.fix_at,
                    f.lon,
                    f.lat,
                    f.speed_kmh,
                    f.heading_deg,
                )
                for f in fixes
            ],
        )


# U001 drives east every 10 s from 23:58 to 00:02; U002 stops at 23:59:50 and
# comes back at 00:01:30 (a gap beyond the stale threshold), 300 m north;
# U003 reported once, the day before; U004 only after midnight.
TRACKS = {
    "U001": Track(
        "U001", [Fix(at(s), 24.90 + s * 1e-5, 60.17, 30.0) for s in range(-120, 121, 10)]
    ),
    "U002": Track(
        "U002",
        [
            Fix(at(-30), 24.95, 60.1727),
            Fix(at(-10), 24.9502, 60.1727),
            Fix(at(90), 24.951, 60.1727),
        ],
    ),
    "U003": Track("U003", [Fix(at(-6 * 3600), 24.93, 60.16)]),
    "U004": Track("U004", [Fix(at(15), 24.94, 60.165), Fix(at(25), 24.9402, 60.165)]),
}


@pytest.fixture
def history(conn: psycopg.Connection) -> psycopg.Connection:
    for unit_id, track in TRACKS.items():
        insert(conn, unit_id, list(track.fixes))
    conn.commit()
    return conn


def test_fixes_straddle_two_day_partitions(history: psycopg.Connection) -> None:
    rows = history.execute(
        "SELECT tableoid::regclass::text, count(*) FROM positions GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert rows == [("positions_20260301", 15), ("positions_20260302", 16)]


def test_window_has_one_fix_before_and_after_each_end(history: psycopg.Connection) -> None:
    window = replay_store.track_window(history, at(-25), at(25))
    assert set(window) == {"U001", "U002", "U003", "U004"}
    assert [f.fix_at for f in window["U001"].fixes] == [at(s) for s in range(-30, 31, 10)]
    assert [f.fix_at for f in window["U002"].fixes] == [at(-30), at(-10), at(90)]
    assert [f.fix_at for f in window["U003"].fixes] == [at(-6 * 3600)]
    assert window["U001"].fixes[0] == TRACKS["U001"].fixes[9]  # values come back whole
    for unit_id, track in window.items():
        for t in (at(-25), at(-0.5), at(0), at(7.25), at(25)):
            assert replay.position_at(track, t, STALE_S) == replay.position_at(
                TRACKS[unit_id], t, STALE_S
            )


def test_window_by_unit_and_by_area(history: psycopg.Connection) -> None:
    only = replay_store.track_window(history, at(-25), at(25), unit_ids=["U002", "U404"])
    assert set(only) == {"U002"}
    north = (24.949, 60.172, 24.952, 60.173)  # only U002 is ever up there
    assert set(replay_store.track_window(history, at(-60), at(60), bbox=north)) == {"U002"}
    assert replay_store.track_window(history, at(0), at(60), bbox=north) == {}  # U002 was away
    with pytest.raises(ValueError):
        replay_store.track_window(history, at(1), at(0))


@pytest.mark.parametrize(
    "seconds", [-6 * 3600, -125, -120, -31, -25, -10, -5, -0.001, 0, 0.001, 14, 20, 49.9, 51, 150]
)
def test_seek_matches_the_pure_snapshot(history: psycopg.Connection, seconds: float) -> None:
    expected = replay.snapshot_at(TRACKS, at(seconds), STALE_S)
    assert replay_store.replay_snapshot(history, at(seconds), STALE_S) == expected


def test_seek_interpolates_across_midnight_and_respects_lookback(
    history: psycopg.Connection,
) -> None:
    snap = replay_store.replay_snapshot(history, at(-5), STALE_S)
    assert snap["U001"].interpolated and snap["U001"].lon == pytest.approx(24.89995, abs=1e-9)
    assert snap["U002"].fix_at == at(-10) and not snap["U002"].stale
    assert snap["U003"].stale and "U004" not in snap
    late = replay_store.replay_snapshot(history, at(60), STALE_S)
    assert late["U002"].stale and not late["U002"].interpolated
    short = replay_store.replay_snapshot(history, at(-5), STALE_S, lookback_s=3600)
    assert "U003" not in short
    assert set(replay_store.replay_snapshot(history, at(-5), STALE_S, unit_ids=["U002"])) == {
        "U002"
    }


def test_retention_drops_exactly_the_days_past_it(conn: psycopg.Connection) -> None:
    for day in range(1, 6):  # 2026-01-01 .. 2026-01-05, one fix at noon each
        insert(conn, "U001", [Fix(datetime(2026, 1, day, 12, tzinfo=UTC), 24.9, 60.17)])
    conn.commit()
    now = datetime(2026, 1, 6, 10, 0, tzinfo=UTC)  # cutoff 2026-01-03 10:00
    assert drop_old_partitions(conn, keep_days=3, now=now) == [
        "positions_20260101",
        "positions_20260102",
    ]
    left = conn.execute("SELECT fix_at::date FROM positions ORDER BY 1").fetchall()
    assert [d for (d,) in left] == [date(2026, 1, 3), date(2026, 1, 4), date(2026, 1, 5)]
    assert drop_old_partitions(conn, keep_days=3, now=now) == []
    later = now + timedelta(hours=14)  # 2026-01-07 00:00: 2026-01-03 has now passed too
    assert drop_old_partitions(conn, keep_days=3, now=later) == ["positions_20260103"]
    assert drop_old_partitions(conn, now=later) == []  # 90 days by default


def test_retention_ignores_tables_not_named_by_day(conn: psycopg.Connection) -> None:
    conn.execute(
        "CREATE TABLE positions_archive PARTITION OF positions"
        " FOR VALUES FROM ('2000-01-01') TO ('2000-02-01')"
    )
    conn.commit()
    assert drop_old_partitions(conn, keep_days=1, now=MIDNIGHT) == []
    assert retention.partition_day("positions_20260302") == date(2026, 3, 2)
    assert retention.partition_day("positions_archive") is None
