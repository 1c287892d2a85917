"""The ingest worker: MQTT in, PostGIS out, nothing lost, nothing doubled.

``on_message`` only stamps and queues (it never waits on the database).
Two threads then work as a two-stage pipeline, so that decoding overlaps the
database's work instead of waiting for it:

- the *decode* thread takes a batch off the bounded buffer, registers devices
  never seen and seeds the GPS-jump step (on its own autocommit connection),
  runs every message through the pipeline, in arrival order (one thread, so
  the jump step judges each device's fixes in order), and encodes the batch
  for the database (:meth:`Writer.stage`) and its PUBACKs;
- the *writer* thread (the caller of :meth:`IngestWorker.run`) sends each
  staged batch in one transaction and only then acknowledges every message
  of it to the broker (paho manual acks, QoS 1, persistent session), batches
  in the order they were received. It has little Python to run, so it seldom
  waits for the GIL the other two threads hold.

If the database is down a batch is retried with backoff and nothing is
acknowledged, so the broker keeps and redelivers; at most ``ahead`` decoded
batches wait for the writer, then the decode thread waits, the queue fills,
and the full queue blocks paho's network thread, which stops reading and lets
the broker hold the backlog (backpressure).
"""

from __future__ import annotations

import gc
import logging
import queue
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import psycopg

from feeds.backoff import Backoff, retry
from feeds.metrics import IngestMetrics
from feeds.pipeline import (
    CONFLICTING_FIX,
    DUPLICATE,
    STORE_ERROR,
    Message,
    Outcome,
    Pipeline,
    Rejection,
)
from feeds.session import AckedSession
from feeds.topics import Topics
from feeds.writer import BatchResult, Staged, Writer

log = logging.getLogger("dispatchmap.ingest")
SWITCH_INTERVAL_S = 0.0005


@dataclass
class IngestStats:
    """Running totals since start; read by tests, logs and metrics."""

    received: int = 0
    positions: int = 0
    duplicates: int = 0
    quarantined: Counter[str] = field(default_factory=Counter)
    events: int = 0
    batches: int = 0
    db_errors: int = 0


class IngestWorker:
    """One worker process's MQTT session and writer loop.

    ``database_url`` is used for two long-lived connections (the writer's and
    the decode thread's), each re-opened with backoff when it breaks.
    ``ahead`` is how many decoded batches may wait for the writer.
    """

    def __init__(
        self,
        *,
        mqtt_host: str,
        mqtt_port: int,
        database_url: str,
        topics: Topics,
        pipeline: Pipeline,
        client_id: str,
        share_group: str | None = None,
        batch_max: int = 2000,
        batch_wait_ms: int = 100,
        queue_max: int = 20000,
        credentials: tuple[str, str | None] | None = None,
        ahead: int = 2,
    ) -> None:
        self.database_url = database_url
        self.topics = topics
        self.pipeline = pipeline
        self.share_group = share_group
        self.batch_max = batch_max
        self.batch_wait_s = batch_wait_ms / 1000.0
        self.stats = IngestStats()
        self.metrics = IngestMetrics()
        self.writer = Writer()
        self._conn: psycopg.Connection | None = None
        self._prep_conn: psycopg.Connection | None = None
        self._decoded: queue.Queue[tuple[Staged, bytes]] = queue.Queue(maxsize=ahead)
        self._decode_error: Exception | None = None
        self.session = AckedSession(
            host=mqtt_host,
            port=mqtt_port,
            client_id=client_id,
            queue_max=queue_max,
            filters=lambda: topics.subscriptions(share_group),
            credentials=credentials,
        )
        self.queue = self.session.queue
        self.connected = self.session.connected
        self._stop = self.session.stopping

    def start(self) -> None:
        """Connect (retrying in the background) and start the network thread."""
        self.session.start()

    def stop(self) -> None:
        self.session.stop()
        for conn in (self._conn, self._prep_conn):
            if conn is not None:
                conn.close()

    def run(self) -> None:
        """Writer loop, with the decode thread beside it; returns after
        :meth:`stop` (from another thread or a signal)."""
        # Three threads share the GIL: paho's, the decoder's (CPU-bound) and the
        # writer's, which returns to Python after every libpq call. With the
        # default 5 ms switch interval the writer waits up to 5 ms each time.
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        decoder = threading.Thread(target=self._decode_loop, name="ingest-decode", daemon=True)
        decoder.start()
        try:
            while not self._stop.is_set():
                try:
                    staged, acks = self._decoded.get(timeout=0.2)
                except queue.Empty:
                    continue
                self._store(staged, acks)
        finally:
            self._stop.set()  # a writer that failed must not leave the decoder running
            decoder.join(5)
        if self._decode_error is not None:
            raise RuntimeError("the ingest's decode thread failed") from self._decode_error

    def _decode_loop(self) -> None:
        try:
            self._decode_batches()
        except Exception as exc:
            # Nothing of an undecoded batch was acknowledged: stop the worker so
            # its supervisor restarts it, rather than stall with the writer waiting.
            log.exception("decode thread failed; stopping the worker")
            self._decode_error = exc
            self._stop.set()

    def _decode_batches(self) -> None:
        while not self._stop.is_set():
            batch = self.queue.take(self.batch_max, self.batch_wait_s, 0.2)
            outcomes = self._decode(batch) if batch else None
            if outcomes is None:
                continue
            ready = (self.writer.stage(outcomes), self.session.puback_packet(batch))
            while not self._stop.is_set():
                try:
                    self._decoded.put(ready, timeout=0.2)
                    break
                except queue.Full:
                    continue

    def _decode(self, batch: list[Message]) -> list[Outcome] | None:
        """The batch through the pipeline, after its devices are registered and
        the jump step seeded; None if stopping while the database is away."""
        prepared = retry(
            lambda: self._prepare(batch),
            retry_on=psycopg.OperationalError,
            on_retry=self._prep_db_away,
            stop=self._stop,
        )
        if prepared is None:
            return None
        return [self.pipeline.process(m, self.writer.kinds, self.writer.gcj02) for m in batch]

    def _prepare(self, batch: list[Message]) -> bool:
        """Register the batch's devices and seed the jump step; False if the
        database refused (not: is away)."""
        try:
            self.writer.prepare(self._prep_connection(), self.pipeline, batch)
        except psycopg.OperationalError:
            raise
        except psycopg.Error as exc:
            # Unseeded jump step and unregistered devices cost little; the
            # positions are still written (and isolated if the database refuses).
            log.warning("could not prepare a batch (%s); decoding it unprepared", exc)
            return False
        return True

    def _prep_db_away(self, exc: BaseException, delay_s: float) -> None:
        log.warning("database unavailable (%s); retrying in %.1f s", exc, delay_s)
        if self._prep_conn is not None:
            self._prep_conn.close()

    def _connection(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.database_url, connect_timeout=5)
            self._conn.execute("SET TIME ZONE 'UTC'")
            self._conn.commit()
        return self._conn

    def _prep_connection(self) -> psycopg.Connection:
        if self._prep_conn is None or self._prep_conn.closed:
            self._prep_conn = psycopg.connect(self.database_url, connect_timeout=5, autocommit=True)
        return self._prep_conn

    def _store(self, staged: Staged, acks: bytes) -> None:
        written = self._write_with_retry(staged)
        if written is None:
            return  # stopping: leave the batch unacknowledged, the broker redelivers
        result, write_s = written
        self.session.send_acks(acks)
        committed = datetime.now(UTC)
        outcomes = staged.outcomes
        # Messages of one socket read share their received_at: a few lags a batch.
        received = Counter(o.message.received_at for o in outcomes)
        lags = [((committed - at).total_seconds(), n) for at, n in received.items()]
        self.metrics.observe_batch(outcomes, result, write_s, lags)
        self.metrics.queue_depth.set(self.queue.qsize())
        self._count(outcomes, result.positions, result.duplicates, result.events)

    def _write(self, staged: Staged) -> tuple[BatchResult, float]:
        started = time.monotonic()
        conn = self._connection()
        try:
            with conn.transaction():
                result = self.writer.write(conn, staged)
        except psycopg.Error:
            self.writer.forget_partitions()  # the rollback may have undone one it made
            _undo_duplicates(staged.outcomes)
            raise
        return result, time.monotonic() - started

    def _write_with_retry(self, staged: Staged) -> tuple[BatchResult, float] | None:
        """Write the batch, however long the database is away; a batch the
        database refuses three times is written message by message, and a
        message it still refuses is quarantined as ``store_error``."""
        backoff, refusals = Backoff(self._stop), 0
        while not self._stop.is_set():
            try:
                return self._write(staged)
            except psycopg.errors.TransactionRollback as exc:
                # Deadlock or serialization failure: nothing is wrong with the
                # batch or the connection, only with this attempt.
                log.warning("batch rolled back (%s); retrying", exc.sqlstate)
                self._stop.wait(0.05)
                continue
            except psycopg.OperationalError as exc:
                log.warning(
                    "database unavailable (%s); retrying batch in %.1f s", exc, backoff.delay_s
                )
                if self._conn is not None:
                    self._conn.close()
            except psycopg.Error as exc:
                refusals += 1
                log.warning("database refused a batch (%s), attempt %d", exc, refusals)
                if refusals >= 3:
                    return self._write_isolating(staged.outcomes)
            self.stats.db_errors += 1
            self.metrics.db_errors.inc()
            if backoff.wait():
                break
        return None

    def _write_isolating(self, outcomes: list[Outcome]) -> tuple[BatchResult, float]:
        started = time.monotonic()
        totals = BatchResult(0, 0, 0, 0)
        for i, outcome in enumerate(outcomes):
            try:
                result, _ = self._write(self.writer.stage([outcome]))
            except psycopg.OperationalError:
                raise
            except psycopg.Error as exc:
                outcomes[i] = Outcome(
                    outcome.message, rejection=Rejection(STORE_ERROR, str(exc)[:500])
                )
                result = self._quarantine(outcomes[i])
            totals = totals + result
        return totals, time.monotonic() - started

    def _quarantine(self, outcome: Outcome) -> BatchResult:
        conn = self._connection()
        with conn.transaction():
            return self.writer.write(conn, [outcome])

    def _count(self, outcomes: list[Outcome], positions: int, duplicates: int, events: int) -> None:
        s = self.stats
        s.received += len(outcomes)
        s.positions += positions
        s.duplicates += duplicates
        s.events += events
        s.batches += 1
        s.quarantined.update(o.rejection.reason for o in outcomes if o.rejection)


GC_THRESHOLD = 70_000  # allocations between collections of the youngest generation


def tune_gc() -> None:
    """Make the cyclic garbage collector cheap for a worker that allocates a
    dozen objects per message and keeps batches of them alive for a while.

    With the default first threshold (700 allocations) a collection ran every
    few dozen messages, each surviving batch was promoted to the older
    generations, and full collections kept walking every object the process
    holds: a fifth of the pipeline's own time, half the worker's CPU (55 → 28
    µs a message in ``bench/ingest.py``). The hot path makes no reference
    cycles (its objects die by reference counting), so the collector runs a
    hundred times less often, and what exists at start-up (modules, settings)
    is moved out of its sight. Process-wide: called by a worker process's
    entry point (``dispatchmap ingest``), not by the worker, which tests also
    run inside pytest."""
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, 10, 10)


WRITER_VERDICTS = frozenset({DUPLICATE, CONFLICTING_FIX})


def _undo_duplicates(outcomes: list[Outcome]) -> None:
    """Forget the writer's ``duplicate`` verdicts of a rolled-back attempt: the
    retry asks the database again. (The pipeline's own rejections empty the
    fixes, so a rejected outcome that still has fixes was judged by the writer.)"""
    for o in outcomes:
        if o.rejection is not None and o.rejection.reason in WRITER_VERDICTS and o.fixes:
            o.rejection = None
