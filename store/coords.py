"""Which devices report GCJ-02, and the raw values of their converted fixes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import psycopg

from store import statements

_sql = statements.loader("coords")


def gcj02_devices(conn: psycopg.Connection) -> set[str]:
    """Ids of the devices marked as giving GCJ-02 coordinates."""
    return {str(d) for (d,) in conn.execute(_sql("gcj02_devices"))}


def mark_roster_coords(conn: psycopg.Connection, gcj02: Sequence[str]) -> None:
    """Mark the roster's devices: those in ``gcj02`` give GCJ-02, the others WGS84."""
    conn.execute(_sql("mark_roster_coords"), {"gcj02": list(gcj02)})


def delete_raw_coords_before(conn: psycopg.Connection, before_at: datetime) -> None:
    """Forget the raw values of fixes older than ``before_at`` (their
    positions' day partitions were dropped)."""
    conn.execute(_sql("delete_raw_coords_before"), {"before_at": before_at})


def insert_raw_coords(
    conn: psycopg.Connection, rows: Sequence[tuple[str, datetime, float, float]]
) -> None:
    """Keep (device_id, fix_at, raw_lon, raw_lat) of converted GCJ-02 fixes, degrees."""
    if rows:
        with conn.cursor() as cur:
            cur.executemany(_sql("insert_raw_coords"), rows)
