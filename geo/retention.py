"""Positions history: reading it back for replay, and dropping it past retention.

Every function takes the connection first and runs one statement from
``geo/sql/queries/replay_*.sql``; the geometry of replay (interpolation,
staleness) is done by the pure :mod:`geo.replay`. History is the ``positions``
table, partitioned by UTC day (``positions_YYYYMMDD``). Results are read in
binary, so ``speed_kmh``/``heading_deg`` (``real`` columns) come back as the
exact float32 value (36.1 reads 36.099998...), the same from every reader.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import psycopg
from psycopg import sql

from geo import queries
from geo.replay import Fix, Track, TrackPoint, position_between

RETENTION_DAYS = 90
LOOKBACK_S = 12 * 3600.0
"""How far before a moment a unit's last fix is looked for (longer than a shift);
a unit silent for longer is not on the replay map at that moment. Bounding it
keeps a seek to at most two day partitions per unit."""

_PARTITION = re.compile(r"^positions_(\d{8})$")

BBox = tuple[float, float, float, float]


def track_window(
    conn: psycopg.Connection,
    t1: datetime,
    t2: datetime,
    unit_ids: Sequence[str] | None = None,
    bbox: BBox | None = None,
    lookback_s: float = LOOKBACK_S,
    lookahead_s: float = LOOKBACK_S,
) -> dict[str, Track]:
    """Unit id -> its track from ``t1`` to ``t2`` (UTC), with one fix before
    ``t1`` (up to ``lookback_s`` earlier) and one after ``t2`` (up to
    ``lookahead_s`` later), so that positions at both ends interpolate.

    ``unit_ids`` restricts to those units (None: the whole roster). ``bbox`` is
    (min_lon, min_lat, max_lon, max_lat) in WGS84 degrees: it keeps the units
    with at least one fix inside it during the window, and their whole tracks
    (a unit leaving the area is still followed). Units without any fix in
    reach are left out. Fixes without a unit (devices off the roster) are not
    replayed.
    """
    if t2 < t1:
        raise ValueError("track_window needs t1 <= t2")
    if bbox is not None:
        inside = area_unit_ids(conn, t1, t2, bbox)
        unit_ids = sorted(inside if unit_ids is None else inside.intersection(unit_ids))
    params = {
        "t1": t1,
        "t2": t2,
        "unit_ids": list(unit_ids) if unit_ids is not None else None,
        "lookback_s": lookback_s,
        "lookahead_s": lookahead_s,
    }
    fixes: dict[str, list[Fix]] = {}
    cur = conn.cursor(binary=True)
    for unit_id, fix_at, lon, lat, speed, heading in cur.execute(
        queries.sql("replay_track_window"), params
    ):
        fixes.setdefault(unit_id, []).append(Fix(fix_at, lon, lat, speed, heading))
    return {u: Track(u, f) for u, f in fixes.items()}


def area_unit_ids(conn: psycopg.Connection, t1: datetime, t2: datetime, bbox: BBox) -> set[str]:
    """The units with at least one fix inside ``bbox`` (min_lon, min_lat,
    max_lon, max_lat; WGS84 degrees, edges included) from ``t1`` to ``t2``."""
    params = dict(zip(("min_lon", "min_lat", "max_lon", "max_lat"), bbox, strict=True))
    rows = conn.execute(queries.sql("replay_area_units"), {"t1": t1, "t2": t2, **params})
    return {unit_id for (unit_id,) in rows}


def replay_snapshot(
    conn: psycopg.Connection,
    at: datetime,
    stale_s: float,
    unit_ids: Sequence[str] | None = None,
    lookback_s: float = LOOKBACK_S,
) -> dict[str, TrackPoint]:
    """Unit id -> position shown at ``at`` (UTC) for the whole roster, or for
    ``unit_ids``: what :func:`geo.replay.position_at` gives on the full track,
    read with two index probes per unit instead of the track (the seek of the
    replay slider). Units with no fix in the ``lookback_s`` seconds up to
    ``at`` are left out."""
    params = {
        "at": at,
        "stale_s": stale_s,
        "lookback_s": lookback_s,
        "unit_ids": list(unit_ids) if unit_ids is not None else None,
    }
    found: dict[str, TrackPoint] = {}
    # Binary results: a seek parses 1,000 rows of timestamps and floats.
    for row in conn.cursor(binary=True).execute(queries.sql("replay_snapshot"), params):
        prev = Fix(row[1], row[2], row[3], row[4], row[5])
        nxt = None if row[6] is None else Fix(row[6], row[7], row[8], row[9], row[10])
        found[row[0]] = position_between(prev, nxt, at, stale_s)
    return found


def partition_day(name: str) -> date | None:
    """The UTC day of a ``positions_YYYYMMDD`` partition name; None for other names."""
    match = _PARTITION.match(name)
    return None if match is None else datetime.strptime(match[1], "%Y%m%d").date()


def _day_end(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)


def drop_old_partitions(
    conn: psycopg.Connection,
    keep_days: int = RETENTION_DAYS,
    now: datetime | None = None,
    lock_timeout_ms: int = 5000,
) -> list[str]:
    """Drop the whole ``positions_YYYYMMDD`` partitions whose every row is more
    than ``keep_days`` days older than ``now`` (default: the current time), in
    one transaction (nested in the caller's, if any); return their names,
    oldest first. A day is dropped only once it has entirely passed the
    retention: with ``keep_days=90`` at 2026-06-01 10:00 UTC, the last day
    dropped is 2026-03-02.

    Only positions history is touched. The event log (``events``) is never
    dropped here: it is small, append-only, and must outlive any incident
    still open or under review.

    Dropping a partition locks the parent table: ``lock_timeout_ms`` makes a
    run give up (psycopg.errors.LockNotAvailable) rather than queue the live
    ingest behind a long replay export.
    """
    if keep_days < 0:
        raise ValueError("keep_days must be >= 0")
    cutoff = (now or datetime.now(UTC)) - timedelta(days=keep_days)
    dropped: list[str] = []
    with conn.transaction():
        conn.execute(queries.sql("replay_lock_timeout"), (f"{lock_timeout_ms}ms",))
        for (name,) in conn.execute(queries.sql("replay_day_partitions")).fetchall():
            day = partition_day(name)
            if day is not None and _day_end(day) <= cutoff:
                statement = sql.SQL(queries.sql("replay_drop_partition"))
                conn.execute(statement.format(partition=sql.Identifier(name)))
                dropped.append(name)
    return dropped
