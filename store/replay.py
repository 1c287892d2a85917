"""Positions history read back for replay and review, and its day partitions
dropped past retention. Each function runs one statement of
``store/sql/replay/``; the caller owns the transaction.

History is the ``positions`` table, partitioned by UTC day
(``positions_YYYYMMDD``). Tracks are read in binary, so ``speed_kmh`` and
``heading_deg`` (``real`` columns) come back as the exact float32 value (36.1
reads 36.099998...), the same from every reader. The geometry of replay
(interpolation, staleness) is the pure :mod:`geo.replay`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from geo.replay import Fix, Track, TrackPoint, position_between
from geo.retention import LOOKBACK_S, BBox
from store import statements

_sql = statements.loader("replay")
AREA_KEYS = ("min_lon", "min_lat", "max_lon", "max_lat")


def _rows(conn: psycopg.Connection, text: str, params: Any = None) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(text, params).fetchall()


def _box(bbox: BBox | None) -> dict[str, float | None]:
    return dict.fromkeys(AREA_KEYS) if bbox is None else dict(zip(AREA_KEYS, bbox, strict=True))


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
    for unit_id, fix_at, lon, lat, speed, heading in cur.execute(_sql("track_window"), params):
        fixes.setdefault(unit_id, []).append(Fix(fix_at, lon, lat, speed, heading))
    return {u: Track(u, f) for u, f in fixes.items()}


def area_unit_ids(conn: psycopg.Connection, t1: datetime, t2: datetime, bbox: BBox) -> set[str]:
    """The units with at least one fix inside ``bbox`` (min_lon, min_lat,
    max_lon, max_lat; WGS84 degrees, edges included) from ``t1`` to ``t2``."""
    rows = conn.execute(_sql("area_unit_ids"), {"t1": t1, "t2": t2, **_box(bbox)})
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
    for row in conn.cursor(binary=True).execute(_sql("replay_snapshot"), params):
        prev = Fix(row[1], row[2], row[3], row[4], row[5])
        nxt = None if row[6] is None else Fix(row[6], row[7], row[8], row[9], row[10])
        found[row[0]] = position_between(prev, nxt, at, stale_s)
    return found


def recent_incidents(conn: psycopg.Connection, limit: int) -> list[dict[str, Any]]:
    """The newest ``limit`` incidents, for choosing a replay window."""
    return _rows(conn, _sql("recent_incidents"), (limit,))


def window_incidents(
    conn: psycopg.Connection, t1: datetime, t2: datetime, bbox: BBox | None = None
) -> list[dict[str, Any]]:
    """Incidents that existed at any time in [t1, t2] (UTC), with ``lon``/``lat``,
    ``created_at`` and ``closed_at`` (None: still open); with ``bbox`` only
    those inside it (edges included)."""
    return _rows(conn, _sql("window_incidents"), {"t1": t1, "t2": t2, **_box(bbox)})


def window_events(conn: psycopg.Connection, t1: datetime, t2: datetime) -> list[dict[str, Any]]:
    """Every event in [t1, t2] (UTC), oldest first."""
    return _rows(conn, _sql("window_events"), {"t1": t1, "t2": t2})


def status_before(conn: psycopg.Connection, t1: datetime, since: datetime) -> list[dict[str, Any]]:
    """Each unit's last status-changing event in [since, t1): its status at t1."""
    return _rows(conn, _sql("status_before"), {"t1": t1, "since": since})


def incident_changes(
    conn: psycopg.Connection, incident_ids: list[int], t2: datetime
) -> list[dict[str, Any]]:
    """The events that may move these incidents' status, up to ``t2``, oldest first."""
    return _rows(conn, _sql("incident_changes"), {"incident_ids": incident_ids, "t2": t2})


def review_incident(conn: psycopg.Connection, incident_id: int) -> dict[str, Any] | None:
    """The incident with type names, ``beat`` name, nearest named ``road`` and
    its ``road_distance_m``; None if there is no such incident."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(_sql("review_incident"), (incident_id,)).fetchone()


def review_roads(conn: psycopg.Connection, bbox: BBox) -> list[tuple[bool, list[list[float]]]]:
    """Road edges meeting ``bbox``: (car, coordinates as [lon, lat] lists)."""
    return [(bool(car), coords) for car, coords in conn.execute(_sql("review_roads"), _box(bbox))]


def review_clock(conn: psycopg.Connection, incident_id: int) -> dict[str, Any] | None:
    """The incident's milestones (the columns of ``incidents/response_clock.sql``)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(_sql("review_clock"), (incident_id,)).fetchone()


def day_partitions(conn: psycopg.Connection) -> list[str]:
    """The names of the partitions of ``positions``, oldest first by name."""
    return [name for (name,) in conn.execute(_sql("day_partitions")).fetchall()]


def set_lock_timeout(conn: psycopg.Connection, timeout_ms: int) -> None:
    """Wait at most ``timeout_ms`` milliseconds for a lock, for the rest of
    the current transaction."""
    conn.execute(_sql("set_lock_timeout"), (f"{timeout_ms}ms",))


def drop_partition(conn: psycopg.Connection, name: str) -> None:
    """Drop the partition ``name`` (read from :func:`day_partitions`, never
    from user input; quoted as an identifier)."""
    statement = sql.SQL(_sql("drop_partition"))
    conn.execute(statement.format(partition=sql.Identifier(name)))
