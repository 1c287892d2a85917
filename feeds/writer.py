"""Batch writer: one transaction per batch of pipeline outcomes.

Positions go through a COPY into a temporary staging table, then one
statement inserts them into the partitioned history (``ON CONFLICT DO
NOTHING``: a redelivered fix is stored once) and upserts the latest state per
device and per unit from the rows actually inserted, newest first, moving only
forward in fix time. Refused messages go to ``quarantine`` whole.

The work is split in two so that the ingest can do the first half while the
database commits the batch before: :meth:`Writer.stage` encodes a batch as a
binary COPY, in pure Python with no I/O, and :meth:`Writer.write` sends it,
leaving the writing thread little to do but wait for the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

import psycopg
from psycopg import pq
from psycopg._copy_base import BinaryFormatter
from psycopg.adapt import Transformer

from feeds.decoders import PositionReport
from feeds.pipeline import (
    CONFLICTING_FIX,
    DUPLICATE,
    LastFix,
    Message,
    Outcome,
    Pipeline,
    Rejection,
)
from geo import queries
from store import coords
from store.values import jsonb_text

_STAGE_TYPES = (
    ["int4", "text", "text", "timestamptz", "timestamptz", "float8", "float8"]
    + ["float4"] * 4
    + ["text"]
)


def stage_row(
    n: int, f: PositionReport, unit: str | None, received_at: datetime, source: str | None
) -> tuple[Any, ...]:
    """Stage row ``n`` for fix ``f``, in the column order of ``copy_position_stage``."""
    return (
        n,
        f.device_id,
        unit,
        f.fix_at,
        received_at,
        f.lon,
        f.lat,
        f.speed_kmh,
        f.heading_deg,
        f.acc_m,
        f.alt_m,
        source,
    )


class StageEncoder:
    """Rows of ``position_stage`` as one binary COPY payload, header and
    trailer included, encoded by psycopg's own (C) row formatter without a
    connection, so any thread can do it. (``BinaryFormatter`` is psycopg
    internals, the class its ``Copy.write_row`` uses; psycopg is pinned.)"""

    def __init__(self) -> None:
        self._tx = Transformer()
        types = psycopg.adapters.types
        self._tx.set_dumper_types([types[t].oid for t in _STAGE_TYPES], pq.Format.BINARY)

    def encode(self, rows: Sequence[Sequence[Any]]) -> bytes:
        formatter = BinaryFormatter(self._tx)
        out = bytearray()
        for row in rows:
            out += formatter.write_row(row)
        out += formatter.end()
        return bytes(out)


@dataclass(slots=True)
class Staged:
    """A batch ready to write: its outcomes, their accepted fixes (stage row
    ``n`` is ``fixes[n]``) encoded as a binary COPY, and the days they fall on."""

    outcomes: list[Outcome]
    fixes: list[tuple[Outcome, PositionReport]]
    copy: bytes
    days: set[date]


@dataclass(frozen=True, slots=True)
class BatchResult:
    positions: int
    duplicates: int
    quarantined: int
    events: int

    def __add__(self, other: BatchResult) -> BatchResult:
        return BatchResult(
            self.positions + other.positions,
            self.duplicates + other.duplicates,
            self.quarantined + other.quarantined,
            self.events + other.events,
        )


class Writer:
    """Writes batches on one connection; remembers partitions and devices it has seen."""

    def __init__(self) -> None:
        self._days: set[date] = set()
        self._devices: dict[str, str | None] = {}
        self.kinds: dict[str, str | None] = {}
        """Device id -> kind (car, motorbike, foot) of its unit, None if not on the roster."""
        self.gcj02: set[str] = set()
        """Devices marked as giving GCJ-02 (converted by the pipeline)."""
        self._encoder = StageEncoder()
        self._stage_pid = 0  # the backend whose session holds position_stage
        self._asked: set[str] = set()  # devices whose stored last fix was looked up

    def forget_partitions(self) -> None:
        """Forget which day partitions and stage table exist: a rolled-back
        batch may have made them. (Devices are registered by :meth:`prepare`,
        which the ingest runs on its own autocommit connection, so no rollback
        undoes them.)"""
        self._days.clear()
        self._stage_pid = 0

    def _refresh_devices(self, conn: psycopg.Connection) -> None:
        rows = conn.execute(queries.sql("device_units")).fetchall()
        self._devices = {str(d): u for d, u, _ in rows}
        self.kinds = {str(d): k for d, _, k in rows}
        self.gcj02 = coords.gcj02_devices(conn)

    def prepare(
        self, conn: psycopg.Connection, pipeline: Pipeline, batch: Sequence[Message]
    ) -> None:
        """Before a batch is processed: register devices never seen (a device
        not on the roster is kept as unknown, never dropped) and seed the
        GPS-jump step with the stored last fix of devices it has not seen."""
        routes = [r for r in map(pipeline.topics.route, (m.topic for m in batch)) if r]
        new = {(r.device_id, r.format) for r in routes if r.device_id not in self._devices}
        if new:
            self._refresh_devices(conn)
            unknown = [(d, f) for d, f in new if d not in self._devices]
            if unknown:
                with conn.cursor() as cur:
                    cur.executemany(queries.sql("insert_unknown_device"), unknown)
                self._refresh_devices(conn)
        # Asked once per device: one whose messages are all refused, or that has
        # no stored fix, would otherwise be asked for again in every batch.
        unseen = list({r.device_id for r in routes} - pipeline.jumps.last.keys() - self._asked)
        if unseen:
            for device_id, fix_at, lon, lat in conn.execute(queries.sql("last_fixes"), (unseen,)):
                pipeline.jumps.seed(device_id, LastFix(fix_at, lon, lat))
            self._asked.update(unseen)

    def _ensure_partitions(self, conn: psycopg.Connection, days: set[date]) -> None:
        missing = days - self._days
        if missing:
            conn.execute("SELECT ensure_position_partitions(%s, %s)", (min(missing), max(missing)))
            self._days |= missing

    def stage(self, outcomes: Sequence[Outcome]) -> Staged:
        """Encode ``outcomes`` for :meth:`write` (no I/O; after :meth:`prepare`,
        which knows each device's unit)."""
        fixes = [(o, f) for o in outcomes if o.rejection is None for f in o.fixes]
        units = self._devices
        rows = [
            stage_row(n, f, units.get(f.device_id), o.message.received_at, o.format)
            for n, (o, f) in enumerate(fixes)
        ]
        days = {f.fix_at.date() for _, f in fixes}
        return Staged(list(outcomes), fixes, self._encoder.encode(rows), days)

    def write(self, conn: psycopg.Connection, batch: Staged | Sequence[Outcome]) -> BatchResult:
        """Store a batch in one transaction (the caller commits). A message
        all of whose fixes the database already holds (a redelivery, a device
        repeating itself) is quarantined as ``duplicate``, so it is accounted for."""
        staged = batch if isinstance(batch, Staged) else self.stage(batch)
        self._ensure_partitions(conn, staged.days)
        missing = self._write_positions(conn, staged)
        coords.insert_raw_coords(conn, _raw_rows(staged, missing))
        positions, duplicates = self._mark_duplicates(conn, staged, missing)
        events = self._write_events(conn, staged.outcomes)
        quarantined = self._write_quarantine(conn, staged.outcomes)
        return BatchResult(positions, duplicates, quarantined, events)

    @staticmethod
    def _mark_duplicates(
        conn: psycopg.Connection, staged: Staged, missing: set[int]
    ) -> tuple[int, int]:
        """Refuse each message none of whose fixes was stored: ``duplicate`` if
        the database holds the same fix, ``conflicting_fix`` if it holds a
        fix of that device at that time at another place. ``missing`` are the
        stage rows not inserted. Returns the rows inserted and the messages
        refused."""
        if not missing:
            return len(staged.fixes), 0
        stored: dict[int, bool] = {}  # id(outcome) -> any fix of it stored
        for n, (o, _) in enumerate(staged.fixes):
            stored[id(o)] = stored.get(id(o), False) or n not in missing
        unstored = [o for o, _ in staged.fixes if not stored.pop(id(o), True)]
        if unstored:
            held = _stored_fixes(conn, [f for o in unstored for f in o.fixes])
            for o in unstored:
                o.rejection = _repeat_or_conflict(o.fixes, held)
        return len(staged.fixes) - len(missing), len(unstored)

    def _write_positions(self, conn: psycopg.Connection, staged: Staged) -> set[int]:
        if not staged.fixes:
            return set()
        if self._stage_pid != conn.info.backend_pid:
            conn.execute(queries.sql("create_position_stage"))
            self._stage_pid = conn.info.backend_pid
        with conn.cursor().copy(queries.sql("copy_position_stage")) as copy:
            copy.write(staged.copy)
        # A fix already stored, or twice in this batch, is inserted once: the
        # first copy wins and the others find their key taken.
        return {n for (n,) in conn.execute(queries.sql("store_positions"))}

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
                        jsonb_text(data),
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
                        jsonb_text(e.data),
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


# Two fixes within this many degrees (about 1 m) are one place.
SAME_PLACE_DEG = 1e-5


def _raw_rows(staged: Staged, missing: set[int]) -> list[tuple[str, datetime, float, float]]:
    """(device_id, fix_at, raw_lon, raw_lat) of the converted fixes just stored."""
    return [
        (f.device_id, f.fix_at, f.raw_lon, f.raw_lat)
        for n, (_, f) in enumerate(staged.fixes)
        if f.raw_lon is not None and f.raw_lat is not None and n not in missing
    ]


def _stored_fixes(
    conn: psycopg.Connection, fixes: Sequence[PositionReport]
) -> dict[tuple[str, datetime], tuple[float, float]]:
    rows = conn.execute(
        queries.sql("stored_fixes"), ([f.device_id for f in fixes], [f.fix_at for f in fixes])
    ).fetchall()
    return {(d, at): (lon, lat) for d, at, lon, lat in rows}


def _repeat_or_conflict(
    fixes: Sequence[PositionReport], held: dict[tuple[str, datetime], tuple[float, float]]
) -> Rejection:
    for f in fixes:
        lon, lat = held.get((f.device_id, f.fix_at), (f.lon, f.lat))
        if abs(lon - f.lon) > SAME_PLACE_DEG or abs(lat - f.lat) > SAME_PLACE_DEG:
            return Rejection(
                CONFLICTING_FIX, f"fix_at={f.fix_at.isoformat()} stored at lat={lat} lon={lon}"
            )
    return Rejection(DUPLICATE, f"fix_at={fixes[0].fix_at.isoformat()}")


def ingest_batch(
    conn: psycopg.Connection, pipeline: Pipeline, writer: Writer, batch: Sequence[Message]
) -> tuple[list[Outcome], BatchResult]:
    """Prepare, process and store one batch in the caller's transaction."""
    writer.prepare(conn, pipeline, batch)
    outcomes = [pipeline.process(m, writer.kinds, writer.gcj02) for m in batch]
    return outcomes, writer.write(conn, outcomes)
