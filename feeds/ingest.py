"""The ingest worker: MQTT in, PostGIS out, nothing lost, nothing doubled.

``on_message`` only stamps and queues (it never waits on the database); a
writer loop takes batches off the bounded queue, runs the pipeline, writes
the batch in one transaction and only then acknowledges every message of it
to the broker (paho manual acks, QoS 1, persistent session). If the database
is down the batch is retried with backoff and nothing is acknowledged, so the
broker keeps and redelivers; the full queue blocks paho's network thread,
which stops reading and lets the broker hold the backlog (backpressure).
"""

from __future__ import annotations

import logging
import queue
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import psycopg

from feeds.metrics import IngestMetrics
from feeds.pipeline import STORE_ERROR, Message, Outcome, Pipeline, Rejection
from feeds.session import AckedSession
from feeds.topics import Topics
from feeds.writer import BatchResult, Writer, ingest_batch

log = logging.getLogger("dispatchmap.ingest")


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

    ``database_url`` is used for a single long-lived connection that is
    re-opened with backoff when it breaks.
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
        if self._conn is not None:
            self._conn.close()

    def run(self) -> None:
        """Writer loop; returns after :meth:`stop` (from another thread or a signal)."""
        while not self._stop.is_set():
            batch = self._take_batch()
            if batch:
                self._store(batch)

    def _take_batch(self) -> list[Message]:
        try:
            batch = [self.queue.get(timeout=0.2)]
        except queue.Empty:
            return []
        deadline = time.monotonic() + self.batch_wait_s
        while len(batch) < self.batch_max:
            remaining = deadline - time.monotonic()
            try:
                batch.append(
                    self.queue.get(timeout=max(remaining, 0))
                    if remaining > 0
                    else self.queue.get_nowait()
                )
            except queue.Empty:
                break
        return batch

    def _connection(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.database_url, connect_timeout=5)
            self._conn.execute("SET TIME ZONE 'UTC'")
            self._conn.commit()
        return self._conn

    def _store(self, batch: list[Message]) -> None:
        written = self._write_with_retry(batch)
        if written is None:
            return  # stopping: leave the batch unacknowledged, the broker redelivers
        outcomes, result, write_s = written
        self._ack(outcomes)
        committed = datetime.now(UTC)
        lags = [(committed - o.message.received_at).total_seconds() for o in outcomes]
        self.metrics.observe_batch(outcomes, result, write_s, lags)
        self.metrics.queue_depth.set(self.queue.qsize())
        self._count(outcomes, result.positions, result.duplicates, result.events)

    def _write(self, batch: list[Message]) -> tuple[list[Outcome], BatchResult, float]:
        started = time.monotonic()
        conn = self._connection()
        try:
            with conn.transaction():
                outcomes, result = ingest_batch(conn, self.pipeline, self.writer, batch)
        except psycopg.Error:
            self.writer.forget()  # its caches may name what the rollback undid
            raise
        return outcomes, result, time.monotonic() - started

    def _write_with_retry(
        self, batch: list[Message]
    ) -> tuple[list[Outcome], BatchResult, float] | None:
        """Write the batch, however long the database is away; a batch the
        database refuses three times is written message by message, and a
        message it still refuses is quarantined as ``store_error``."""
        delay, refusals = 0.5, 0
        while not self._stop.is_set():
            try:
                return self._write(batch)
            except psycopg.OperationalError as exc:
                log.warning("database unavailable (%s); retrying batch in %.1f s", exc, delay)
                if self._conn is not None:
                    self._conn.close()
            except psycopg.Error as exc:
                refusals += 1
                log.warning("database refused a batch (%s), attempt %d", exc, refusals)
                if refusals >= 3:
                    return self._write_isolating(batch)
            self.stats.db_errors += 1
            self.metrics.db_errors.inc()
            self._stop.wait(delay)
            delay = min(delay * 2, 15.0)
        return None

    def _write_isolating(self, batch: list[Message]) -> tuple[list[Outcome], BatchResult, float]:
        started = time.monotonic()
        outcomes: list[Outcome] = []
        totals = BatchResult(0, 0, 0, 0)
        for message in batch:
            try:
                done, result, _ = self._write([message])
            except psycopg.OperationalError:
                raise
            except psycopg.Error as exc:
                done, result = self._quarantine_store_error(message, exc)
            outcomes += done
            totals = totals + result
        return outcomes, totals, time.monotonic() - started

    def _quarantine_store_error(
        self, message: Message, exc: Exception
    ) -> tuple[list[Outcome], BatchResult]:
        outcome = Outcome(message, rejection=Rejection(STORE_ERROR, str(exc)[:500]))
        conn = self._connection()
        with conn.transaction():
            result = self.writer.write(conn, [outcome])
        return [outcome], result

    def _ack(self, outcomes: list[Outcome]) -> None:
        for o in outcomes:
            self.session.ack(o.message)

    def _count(self, outcomes: list[Outcome], positions: int, duplicates: int, events: int) -> None:
        s = self.stats
        s.received += len(outcomes)
        s.positions += positions
        s.duplicates += duplicates
        s.events += events
        s.batches += 1
        s.quarantined.update(o.rejection.reason for o in outcomes if o.rejection)
