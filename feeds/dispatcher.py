"""The dispatch worker: 110 incidents in, orders out, acknowledgements and
status keys applied, arrivals detected from positions, alarms kept.

Each MQTT message is handled in its own transaction and acknowledged to the
broker only after it commits (QoS 1, persistent session). Orders go out
through an outbox: the desk commits an order, this worker publishes it and
stamps ``published_at``; a crash between the two re-publishes, and terminals
recognise an order they already have by its id.
"""

from __future__ import annotations

import json
import logging
import queue
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
import psycopg

from feeds.backoff import retry
from feeds.decoders import DecodeError
from feeds.decoders import status as status_decoder
from feeds.decoders.native import parse_time
from feeds.pipeline import Message
from feeds.session import AckedSession
from feeds.topics import Topics
from geo import queries
from geo.intake import IntakeError
from geo.status import KEY_ACTION, Action
from store import incidents as incident_store
from store import orders as order_store
from usecases import alarms
from usecases import incidents as inc
from usecases.shown_sets import CLOSED_STATES

log = logging.getLogger("dispatchmap.dispatcher")


class Refused(ValueError):
    """A message the dispatcher cannot use; kept in quarantine with ``reason``."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


class DispatchWorker:
    def __init__(
        self,
        *,
        mqtt_host: str,
        mqtt_port: int,
        database_url: str,
        topics: Topics,
        client_id: str = "dispatchmap-dispatcher",
        thresholds: alarms.Thresholds,
        arrival_radius_m: float = 50.0,
        tick_s: float = 1.0,
        credentials: tuple[str, str | None] | None = None,
    ) -> None:
        self.database_url = database_url
        self.topics = topics
        self.thresholds = thresholds
        self.arrival_radius_m = arrival_radius_m
        self.tick_s = tick_s
        self._conn: psycopg.Connection | None = None
        self.handled = 0
        self.session = AckedSession(
            host=mqtt_host,
            port=mqtt_port,
            client_id=client_id,
            queue_max=10000,
            filters=topics.dispatch_subscriptions,
            credentials=credentials,
        )
        self.client = self.session.client  # orders are published on the same connection
        self.queue = self.session.queue
        self.connected = self.session.connected
        self._stop = self.session.stopping

    def start(self) -> None:
        self.session.start()

    def stop(self) -> None:
        self.session.stop()
        if self._conn is not None:
            self._conn.close()

    def run(self) -> None:
        """Handle messages as they come and run the timers every ``tick_s``."""
        next_tick = 0.0
        while not self._stop.is_set():
            try:
                message = self.queue.get(timeout=max(0.0, min(0.2, next_tick - time.monotonic())))
            except queue.Empty:
                message = None
            if message is not None:
                self._with_db(self._handle, message)
                self.session.ack(message)
                self.handled += 1
            if time.monotonic() >= next_tick:
                self._with_db(self._tick)
                next_tick = time.monotonic() + self.tick_s

    def _with_db(self, work: Callable[..., Any], *args: Any) -> None:
        """Run ``work`` in one transaction, retrying while the database is away."""

        def attempt() -> None:
            if self._conn is None or self._conn.closed:
                self._conn = psycopg.connect(self.database_url, connect_timeout=5)
            with self._conn.transaction():
                work(self._conn, *args)

        retry(attempt, retry_on=psycopg.OperationalError, on_retry=self._db_away, stop=self._stop)

    def _db_away(self, exc: BaseException, delay_s: float) -> None:
        log.warning("database unavailable (%s); retrying in %.1f s", exc, delay_s)
        if self._conn is not None:
            self._conn.close()

    def _tick(self, conn: psycopg.Connection) -> None:
        now = datetime.now(UTC)
        self._publish_orders(conn, now)
        for arrived in inc.detect_arrivals(conn, self.arrival_radius_m, now):
            log.info("arrival detected: %s", arrived)
        alarms.evaluate(conn, now, self.thresholds)

    def _publish_orders(self, conn: psycopg.Connection, now: datetime) -> None:
        for *fields, incident_status in order_store.unpublished_orders(conn):
            order = inc.Order(*fields)
            if incident_status in CLOSED_STATES:
                self._withdraw(conn, order, incident_status, now)
                continue
            incident = incident_store.incident(conn, order.incident_id)
            assert incident is not None
            body = json.dumps(inc.order_message(order, incident)).encode()
            info = self.client.publish(self.topics.orders(order.unit_id), body, qos=1)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                return  # broker away: the outbox keeps it for the next tick
            order_store.mark_published(conn, order.id, now)
            incident_store.insert_event(
                conn,
                at=now,
                kind="order_published",
                actor="system",
                incident_id=order.incident_id,
                unit_id=order.unit_id,
                order_id=order.id,
                data={"version": incident["version"]},
            )

    def _withdraw(
        self, conn: psycopg.Connection, order: inc.Order, incident_status: str, now: datetime
    ) -> None:
        """Cancel, never publish, an order whose incident was cleared or closed
        after the order was committed: the unit's terminal never heard of it,
        so the unit goes back to available (a ``cancelled`` event, actor
        ``system``, source ``outbox``)."""
        log.info("order %s withdrawn: incident %s", order.id, incident_status)
        done = inc.apply_action(
            conn, order.unit_id, Action.CANCEL, "system", now, order_id=order.id, source="outbox"
        )
        if not done.ok:  # the unit moved on (refusal logged): the order ends all the same
            order_store.set_order_state(conn, order.id, "cancelled")

    def _handle(self, conn: psycopg.Connection, message: Message) -> None:
        try:
            with conn.transaction():  # a savepoint: a refusal below undoes only this
                self._route(conn, message)
        except psycopg.Error as exc:
            if isinstance(exc, psycopg.OperationalError):
                raise
            log.warning("database refused %s: %s", message.topic, exc)
            conn.execute(
                queries.sql("insert_quarantine"),
                (
                    message.received_at,
                    message.topic,
                    None,
                    message.payload,
                    "store_error",
                    str(exc)[:500],
                ),
            )
        except Refused as exc:
            conn.execute(
                queries.sql("insert_quarantine"),
                (
                    message.received_at,
                    message.topic,
                    None,
                    message.payload,
                    exc.reason,
                    str(exc)[:500],
                ),
            )

    def _route(self, conn: psycopg.Connection, message: Message) -> None:
        topic = message.topic
        if topic == self.topics.incidents():
            self._incident(conn, message)
        elif topic.startswith(f"{self.topics.prefix}/acks/"):
            self._ack(conn, topic.rsplit("/", 1)[1], message)
        elif topic.startswith(f"{self.topics.prefix}/status/"):
            self._status(conn, topic.rsplit("/", 1)[1], message)

    def _incident(self, conn: psycopg.Connection, message: Message) -> None:
        try:
            obj = json.loads(message.payload)
            inc.intake(conn, obj, "110", "110", message.received_at)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            detail = str(exc) if isinstance(exc, IntakeError) else f"payload: {exc}"
            raise Refused("bad_incident", detail) from None

    def _ack(self, conn: psycopg.Connection, unit_id: str, message: Message) -> None:
        try:
            obj = json.loads(message.payload)
            action = KEY_ACTION[obj["state"]]
            at = parse_time(obj["ts"]) if "ts" in obj else message.received_at
            order_id = obj.get("order_id")
        except (ValueError, KeyError, TypeError, DecodeError, UnicodeDecodeError) as exc:
            raise Refused("bad_ack", f"{type(exc).__name__}: {exc}") from None
        try:
            inc.apply_action(
                conn,
                unit_id,
                action,
                f"unit:{unit_id}",
                at,
                order_id=None if order_id is None else str(order_id),
                source="ack",
            )
        except LookupError as exc:
            raise Refused("bad_ack", str(exc)) from None

    def _status(self, conn: psycopg.Connection, terminal: str, message: Message) -> None:
        try:
            (report,) = status_decoder.decode(terminal, message.payload)
        except (DecodeError, ValueError):
            return  # the ingest keeps it in quarantine already
        unit_id = order_store.unit_of_device(conn, terminal)
        if report.emergency is not None:
            alarms.emergency(conn, unit_id, terminal, report.emergency, report.reported_at)
        if report.state in KEY_ACTION and unit_id is not None:
            inc.apply_action(
                conn,
                unit_id,
                KEY_ACTION[report.state],
                f"unit:{unit_id}",
                report.reported_at,
                source="status_key",
            )
