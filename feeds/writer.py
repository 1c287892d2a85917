"""Batch writer: one transaction per batch of pipeline outcomes.

Positions go through a COPY into a temporary staging table, then one
statement inserts them into the partitioned history (``ON CONFLICT DO
NOTHING``: a redelivered fix is stored once) and upserts the latest state per
device and per unit from the rows actually inserted, newest first, moving only
forward in fix time. Refused messages go to ``quarantine`` whole.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime

import psycopg

from feeds.pipeline import Outcome
from geo import queries


@dataclass(frozen=True, slots=True)
class BatchResult:
    positions: int
    duplicates: int
    quarantined: int
    events: int


class Writer:
    """Writes batches on one connection; remembers partitions and devices it has seen."""

    def __init__(self) -> None:
        self._days: set[date] = set()
        self._devices: dict[str, str | None] = {}

    def _refresh_devices(self, conn: psycopg.Connection) -> None:
        self._devices = {str(d): u for d, u in conn.execute(queries.sql("device_units"))}

    def _ensure_devices(self, conn: psycopg.Connection, outcomes: Sequence[Outcome]) -> None:
        new = {
            (o.device_id, o.format)
            for o in outcomes
            if o.device_id and o.device_id not in self._devices
        }
        if not new:
            return
        self._refresh_devices(conn)
        unknown = [(d, f) for d, f in new if d not in self._devices]
        if unknown:
            with conn.cursor() as cur:
                cur.executemany(queries.sql("insert_unknown_device"), unknown)
            self._refresh_devices(conn)

    def _ensure_partitions(self, conn: psycopg.Connection, days: set[date]) -> None:
        missing = days - self._days
        if missing:
            conn.execute("SELECT ensure_position_partitions(%s, %s)", (min(missing), max(missing)))
            self._days |= missing

    def write(self, conn: psycopg.Connection, outcomes: Sequence[Outcome]) -> BatchResult:
        """Store ``outcomes`` in one transaction (the caller commits)."""
        self._ensure_devices(conn, outcomes)
        fixes = [(o, f) for o in outcomes if o.rejection is None for f in o.fixes]
        self._ensure_partitions(conn, {f.fix_at.date() for _, f in fixes})
        stored = self._write_positions(conn, fixes)
        events = self._write_events(conn, outcomes)
        quarantined = self._write_quarantine(conn, outcomes)
        return BatchResult(stored, len(fixes) - stored, quarantined, events)

    def _write_positions(self, conn: psycopg.Connection, fixes: list) -> int:
        if not fixes:
            return 0
        conn.execute(queries.sql("create_position_stage"))
        with conn.cursor().copy(queries.sql("copy_position_stage")) as copy:
            for outcome, f in fixes:
                copy.write_row(
                    (
                        f.device_id,
                        self._devices.get(f.device_id),
                        f.fix_at,
                        outcome.message.received_at,
                        f.lon,
                        f.lat,
                        f.speed_kmh,
                        f.heading_deg,
                        f.acc_m,
                        f.alt_m,
                        outcome.format,
                    )
                )
        row = conn.execute(queries.sql("store_positions")).fetchone()
        return int(row[0]) if row else 0

    def _write_events(self, conn: psycopg.Connection, outcomes: Sequence[Outcome]) -> int:
        rows: list[tuple[str, str | None, str, datetime | None, datetime, str]] = []
        for o in outcomes:
            if o.rejection is not None:
                continue
            unit = self._devices.get(o.device_id or "")
            for s in o.statuses:
                data = {
                    k: v
                    for k, v in asdict(s).items()
                    if k not in ("device_id", "reported_at") and v is not None
                }
                rows.append(
                    (
                        s.device_id,
                        unit,
                        "status",
                        s.reported_at,
                        o.message.received_at,
                        json.dumps(data),
                    )
                )
            for e in o.events:
                rows.append(
                    (
                        e.device_id,
                        unit,
                        e.kind,
                        e.reported_at,
                        o.message.received_at,
                        json.dumps(e.data, default=str),
                    )
                )
        if rows:
            with conn.cursor() as cur:
                cur.executemany(queries.sql("insert_device_event"), rows)
        return len(rows)

    def _write_quarantine(self, conn: psycopg.Connection, outcomes: Sequence[Outcome]) -> int:
        bad = [o for o in outcomes if o.rejection is not None]
        if bad:
            with conn.cursor().copy(queries.sql("copy_quarantine")) as copy:
                for o in bad:
                    assert o.rejection is not None
                    copy.write_row(
                        (
                            o.message.received_at,
                            o.message.topic,
                            o.device_id,
                            o.message.payload,
                            o.rejection.reason,
                            o.rejection.detail or None,
                        )
                    )
        return len(bad)
