"""The hash chains of the event log and the audit log (schema 010_records).

Every row of ``events`` and ``audit_log`` carries ``chain_seq`` and
``chain_hash = sha256(previous row's chain_hash || its content)``, set at
commit by a trigger under a lock on the log's row of ``log_chain_heads``. :func:`verify`
recomputes every link in the database and names the first row that does not
fit; :func:`chain_cover` gives an incident's report the event-log head that
covers its events. Hashes are 32-byte SHA-256 digests.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg.rows import dict_row

from geo import queries

LOGS = ("events", "audit_log")
"""The chained tables, in the order they are verified."""


@dataclass(frozen=True)
class ChainReport:
    """One log's verification. ``problem`` is None when the whole chain fits;
    otherwise ``seq`` and ``row_id`` name the first row that does not (both
    None when the rows fit but the head does not) and ``problem`` says what
    differs."""

    log: str
    rows: int
    head_seq: int
    head_hash: bytes
    problem: str | None = None
    seq: int | None = None
    row_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass(frozen=True)
class ChainCover:
    """The event log's last row when a report was made: ``head_seq`` and
    ``head_hash`` cover the incident's events up to ``incident_seq`` (None
    when the incident has no event)."""

    incident_seq: int | None
    head_seq: int
    head_hash: bytes

    @property
    def short_hash(self) -> str:
        return short(self.head_hash)


def short(digest: bytes) -> str:
    """The first 12 hex digits of a digest (48 bits: enough to compare by eye)."""
    return digest.hex()[:12]


def verify(conn: psycopg.Connection, log: str) -> ChainReport:
    """Walk ``log`` (one of LOGS) in chain order and check every link, then
    that the chain head matches the last row. Read it in one snapshot
    (REPEATABLE READ) when other sessions may be appending."""
    if log not in LOGS:
        raise ValueError(f"{log!r} is not a chained log ({', '.join(LOGS)})")
    with conn.cursor(row_factory=dict_row) as cur:
        tail = cur.execute(queries.sql(f"{log}_chain_tail")).fetchone()
        broken = cur.execute(queries.sql(f"{log}_chain_break")).fetchone()
    if tail is None:
        return ChainReport(log, 0, 0, b"", "no chain head in log_chain_heads")
    report = ChainReport(log, tail["rows"], tail["head_seq"], bytes(tail["head_hash"]))
    if broken is not None:
        return _link_problem(report, broken)
    last_seq, last_hash = tail["last_seq"] or 0, bytes(tail["last_hash"] or b"")
    if last_seq != report.head_seq or (last_seq and last_hash != report.head_hash):
        return ChainReport(
            log,
            report.rows,
            report.head_seq,
            report.head_hash,
            f"the chain head is seq {report.head_seq} hash {short(report.head_hash)} but the "
            f"log ends at seq {last_seq}"
            + (f" hash {short(last_hash)}" if last_seq else "")
            + " (rows at the end missing, or the head changed)",
        )
    return report


def _link_problem(report: ChainReport, row: dict) -> ChainReport:
    seq, expected_seq = row["chain_seq"], row["expected_seq"]
    if seq is None:
        problem = "no chain seq: a row committed outside the chain (its trigger was off)"
    elif seq != expected_seq:
        problem = (
            f"chain seq {seq} where {expected_seq} was due (row(s) missing, or a row outside the "
            "chain)"
        )
    else:
        stored, recomputed = bytes(row["chain_hash"] or b""), bytes(row["expected_hash"])
        problem = (
            f"stored hash {short(stored)} but its content and the previous row's hash give "
            f"{short(recomputed)} (this row, or the previous row's hash, was changed)"
        )
    return ChainReport(
        report.log, report.rows, report.head_seq, report.head_hash, problem, seq, row["id"]
    )


def chain_cover(conn: psycopg.Connection, incident_id: int) -> ChainCover | None:
    """The event log's last row now (seq and hash) and the chain seq of
    ``incident_id``'s last event; None when the event log is empty."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(queries.sql("events_chain_cover"), (incident_id,)).fetchone()
    if row is None or row["head_seq"] is None:
        return None
    return ChainCover(row["incident_seq"], row["head_seq"], bytes(row["head_hash"]))
