"""What the data-quality page shows, read at one instant: the store's rows
for devices, units and feeds aggregated by :mod:`geo.quality`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from geo import quality
from store import quality as stored


@dataclass(frozen=True)
class Snapshot:
    """The page at ``now``: ``devices`` (:func:`store.quality.device_quality`
    rows), ``units`` (:func:`geo.quality.unit_quality`), one
    :class:`geo.quality.Feed` per feed and the window's ``totals``."""

    now: datetime
    devices: list[dict[str, Any]]
    units: list[dict[str, Any]]
    feeds: list[quality.Feed]
    totals: dict[str, int]


def quality_snapshot(
    conn: psycopg.Connection,
    now: datetime,
    window_s: float,
    bucket_s: float,
    stale_s: float,
    offline_s: float,
    max_fix_age_s: float = stored.MAX_FIX_AGE_S,
) -> Snapshot:
    """Everything the page shows for the window (now - ``window_s``, now],
    feeds counted in ``bucket_s`` buckets; presence online up to ``stale_s``,
    stale up to ``offline_s``; ``max_fix_age_s`` bounds the history read."""
    devices = stored.device_quality(conn, now, window_s, stale_s, offline_s, max_fix_age_s)
    units = stored.units_with_devices(conn, now, stale_s, offline_s)
    buckets = stored.feed_buckets(conn, now, window_s, bucket_s, max_fix_age_s)
    return Snapshot(
        now,
        devices,
        quality.unit_quality(units, devices),
        quality.feeds(buckets, window_s, bucket_s),
        quality.totals(buckets),
    )
