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
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
import psycopg

from feeds.metrics import IngestMetrics
from feeds.pipeline import STORE_ERROR, Message, Outcome, Pipeline, Rejection
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
        self.queue: queue.Queue[Message] = queue.Queue(maxsize=queue_max)
        self.stats = IngestStats()
        self.metrics = IngestMetrics()
        self.writer = Writer()
        self._stop = threading.Event()
        self._conn: psycopg.Connection | None = None
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=False,
            protocol=mqtt.MQTTv311,
        )
        self.client.manual_ack_set(True)
        self.client.max_inflight_messages_set(queue_max)
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        if credentials is not None:
            self.client.username_pw_set(*credentials)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.mqtt_host, self.mqtt_port = mqtt_host, mqtt_port
        self.connected = threading.Event()

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            log.warning("broker refused connection: %s", reason_code)
            return
        # Subscribing again on every connect is harmless with a persistent
        # session and needed when the broker lost it.
        client.subscribe([(f, 1) for f in self.topics.subscriptions(self.share_group)])
        self.connected.set()
        log.info("connected to broker %s:%s", self.mqtt_host, self.mqtt_port)

    def _on_message(self, client, userdata, msg):
        message = Message(msg.topic, bytes(msg.payload), datetime.now(UTC), msg.mid)
        # A full queue blocks the network thread (backpressure), but never past
        # stop(): the message is unacknowledged, so the broker redelivers it.
        while not self._stop.is_set():
            try:
                self.queue.put(message, timeout=0.5)
                return
            except queue.Full:
                continue

    def start(self) -> None:
        """Connect (retrying in the background) and start the network thread."""
        self.client.connect_async(self.mqtt_host, self.mqtt_port, keepalive=30)
        self.client.loop_start()

    def stop(self) -> None:
        self._stop.set()
        self.client.loop_stop()
        self.client.disconnect()
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
            if o.message.mid:
                self.client.ack(o.message.mid, 1)

    def _count(self, outcomes: list[Outcome], positions: int, duplicates: int, events: int) -> None:
        s = self.stats
        s.received += len(outcomes)
        s.positions += positions
        s.duplicates += duplicates
        s.events += events
        s.batches += 1
        s.quarantined.update(o.rejection.reason for o in outcomes if o.rejection)
