"""Dropping positions history past retention: whole day partitions, in one
transaction that gives up rather than queue behind a lock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg

from geo.retention import RETENTION_DAYS, day_end, partition_day
from store import coords, replay


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

    Only positions history (and the raw GCJ-02 values of its dropped fixes)
    is touched. The event log (``events``) is never dropped here: it is
    small, append-only, and must outlive any incident still open or under
    review.

    Dropping a partition locks the parent table: ``lock_timeout_ms`` makes a
    run give up (psycopg.errors.LockNotAvailable) rather than queue the live
    ingest behind a long replay export.
    """
    if keep_days < 0:
        raise ValueError("keep_days must be >= 0")
    cutoff = (now or datetime.now(UTC)) - timedelta(days=keep_days)
    dropped: list[str] = []
    with conn.transaction():
        replay.set_lock_timeout(conn, lock_timeout_ms)
        for name in replay.day_partitions(conn):
            day = partition_day(name)
            if day is not None and day_end(day) <= cutoff:
                replay.drop_partition(conn, name)
                dropped.append(name)
        if dropped:  # the raw GCJ-02 values of those days' fixes go with them
            last_day = partition_day(dropped[-1])
            assert last_day is not None
            coords.delete_raw_coords_before(conn, day_end(last_day))
    return dropped
