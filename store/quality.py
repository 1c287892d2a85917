"""Data quality as stored: what every feed and every device sent and what
the ingest refused, read for the ``/quality`` page, its CSV export and the
wall's tile (the pure aggregation is :mod:`geo.quality`).

"Messages" in a window are every message the ingest accounted for: stored
fixes (``positions``), device events and quarantined messages, by the time
they were received. Windows are (now - window_s, now].
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from store import statements

_sql = statements.loader("quality")

# The ingest's default max fix age (IngestSettings.max_age_s): no stored fix is
# older than this at receipt, which lets the window queries skip old partitions.
MAX_FIX_AGE_S = 7 * 86400.0


def _rows(conn: psycopg.Connection, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchall()


def _window(now: datetime, window_s: float, max_fix_age_s: float, **extra: Any) -> dict[str, Any]:
    since = now - timedelta(seconds=window_s)
    return {
        "now": now,
        "since": since,
        "fix_since": since - timedelta(seconds=max_fix_age_s),
        **extra,
    }


def device_quality(
    conn: psycopg.Connection,
    now: datetime,
    window_s: float,
    stale_s: float,
    offline_s: float,
    max_fix_age_s: float = MAX_FIX_AGE_S,
) -> list[dict[str, Any]]:
    """Every device, roster or not (``unit_id`` None), by id: ``messages_n``
    in the window (= ``fixes_n + events_n + rejected_n``), ``rejected_by_reason``
    (reason -> count), ``acc_median_m`` (metres, None without a reported
    accuracy), ``last_fix_at`` / ``fix_age_s`` / ``presence`` (online up to
    ``stale_s``, stale up to ``offline_s``, offline, or no_fix), ``lon``/``lat``
    of the last fix, and ``last_message_at`` (any message, even refused)."""
    params = _window(now, window_s, max_fix_age_s, stale_s=stale_s, offline_s=offline_s)
    return _rows(conn, _sql("device_quality"), params)


def units_with_devices(
    conn: psycopg.Connection, now: datetime, stale_s: float, offline_s: float
) -> list[dict[str, Any]]:
    """Every roster unit with ``device_ids`` (empty list: no device at all)
    and its newest valid fix: ``last_fix_at``, ``fix_age_s``, ``presence``."""
    return _rows(
        conn, _sql("units_with_devices"), {"now": now, "stale_s": stale_s, "offline_s": offline_s}
    )


def feed_buckets(
    conn: psycopg.Connection,
    now: datetime,
    window_s: float,
    bucket_s: float,
    max_fix_age_s: float = MAX_FIX_AGE_S,
) -> list[dict[str, Any]]:
    """Message counts ``n`` by ``format`` (None: a topic no feed reads),
    ``reason`` (None: accepted) and ``bucket`` (0 = the newest ``bucket_s``)."""
    return _rows(
        conn, _sql("feed_buckets"), _window(now, window_s, max_fix_age_s, bucket_s=bucket_s)
    )


def message_totals(
    conn: psycopg.Connection, now: datetime, window_s: float, max_fix_age_s: float = MAX_FIX_AGE_S
) -> dict[str, int]:
    """``messages_n``, ``rejected_n`` and ``unrouted_n`` (refused for their
    topic, no device known) in the window; cheap enough for the wall's tile."""
    rows = _rows(conn, _sql("message_totals"), _window(now, window_s, max_fix_age_s))
    return {k: int(v) for k, v in rows[0].items()}


def device_rejections(
    conn: psycopg.Connection, device_id: str, limit: int = 20
) -> list[dict[str, Any]]:
    """A device's newest ``limit`` quarantined messages: ``received_at``,
    ``topic``, ``reason``, ``detail`` and the raw ``payload`` bytes."""
    return _rows(conn, _sql("device_rejections"), {"device_id": device_id, "limit": limit})


def device_track(conn: psycopg.Connection, device_id: str, limit: int = 50) -> list[dict[str, Any]]:
    """A device's newest ``limit`` stored fixes, newest first (``lon``/``lat``
    WGS84 degrees, ``speed_kmh``, ``acc_m``)."""
    return _rows(conn, _sql("device_track"), {"device_id": device_id, "limit": limit})
