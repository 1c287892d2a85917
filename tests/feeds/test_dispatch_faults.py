"""Faults on the dispatch path, each ending with every order on its
terminal, none applied twice (a repeat carries the same order id), no
acknowledgement lost, and the database telling the truth afterwards:
``kill -9`` of the dispatcher after it published an order but before it
recorded that, and while acknowledgements arrive; a Mosquitto restart while
orders go out; a PostgreSQL restart mid-dispatch."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
import psycopg

from dispatchmap.services import EmbeddedMosquitto
from feeds.topics import Topics
from geo.intake import NewIncident
from tests.conftest import wait_equal, wait_until
from tests.helpers import publish_all, publisher, running_dispatcher
from usecases import incidents as inc

UNITS = [f"U{i:03d}" for i in range(1, 17)]
SCENE = (24.9452, 60.1690)


class Terminals:
    """Every unit's terminal: one persistent MQTT session that receives the
    orders of all units and counts each order id it got."""

    def __init__(self, host: str, port: int, topics: Topics) -> None:
        self.received: list[str] = []
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"terminals-{uuid.uuid4().hex[:8]}",
            clean_session=False,
        )
        self.client.reconnect_delay_set(0.1, 1)
        self.client.on_message = lambda c, u, m: self.received.append(
            json.loads(m.payload)["order_id"]
        )
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *a: subscribed.set()
        self.client.connect(host, port)
        self.client.subscribe(topics.orders("+"), qos=1)
        self.client.loop_start()
        if not subscribed.wait(10):
            raise AssertionError("the terminals could not subscribe")

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def dispatch(url: str, unit_id: str) -> str:
    """A new incident with ``unit_id`` sent to it; the order's id."""
    with psycopg.connect(url) as conn, conn.transaction():
        now = datetime.now(UTC)
        new = NewIncident("assault", 1, *SCENE, now, f"fault test {unit_id}", None)
        incident_id = inc.create_incident(conn, new, "110", "110", now)
        assert incident_id is not None
        (order,), refused = inc.dispatch_units(
            conn, incident_id, [inc.Pick(unit_id)], "desk:alice", now
        )
    assert not refused
    return order.id


def rows(url: str, query: str, *params: object) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def states(url: str) -> dict[str, str]:
    return dict(rows(url, "SELECT id, state FROM orders"))  # type: ignore[arg-type]


def unpublished(url: str) -> int:
    return len(rows(url, "SELECT id FROM orders WHERE published_at IS NULL"))


@contextmanager
def dispatcher_process(url: str, mqtt_url: str, topics: Topics) -> Iterator[subprocess.Popen]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "MQTT_URL": mqtt_url,
        "DM_TOPIC_PREFIX": topics.prefix,
        "DM_TOPIC_OWNTRACKS_PREFIX": topics.owntracks_prefix,
        "DM_DISPATCH_TICK_S": "0.2",
        "DM_DISPATCH_CLIENT_ID": f"dispatch-{topics.prefix}",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "dispatchmap.cli", "dispatcher"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


def test_kill_9_after_publishing_before_recording_sends_the_same_order_again(
    db_url, mqtt_url, mqtt_hostport, topics
):
    host, port = mqtt_hostport
    terminals = Terminals(host, port, topics)
    order_id = dispatch(db_url, UNITS[0])  # committed while no dispatcher runs
    try:
        with psycopg.connect(db_url) as blocker:
            # Hold the event log: the dispatcher publishes the order, then
            # waits to log "order_published" (and to commit its stamp) in the
            # same transaction, and is killed there.
            blocker.execute("LOCK TABLE events IN SHARE MODE")
            with dispatcher_process(db_url, mqtt_url, topics) as first:
                wait_until(lambda: order_id in terminals.received, 20, message="the order")
                first.send_signal(signal.SIGKILL)
                first.wait(10)
            blocker.rollback()
        assert unpublished(db_url) == 1  # its stamp died with the dispatcher
        with dispatcher_process(db_url, mqtt_url, topics):
            wait_until(lambda: unpublished(db_url) == 0, 20, message="the order stamped")
            wait_until(lambda: terminals.received.count(order_id) == 2, 10, message="a repeat")
        logged = rows(db_url, "SELECT count(*) FROM events WHERE kind = 'order_published'")
        assert logged == [(1,)]
        assert states(db_url) == {order_id: "sent"}  # the repeat changed nothing
    finally:
        terminals.close()


def test_kill_9_while_acknowledgements_arrive_loses_none(db_url, mqtt_url, mqtt_hostport, topics):
    host, port = mqtt_hostport
    orders = [dispatch(db_url, unit) for unit in UNITS]
    with dispatcher_process(db_url, mqtt_url, topics) as first, publisher(host, port) as pub:
        wait_until(lambda: unpublished(db_url) == 0, 20, message="the orders out")
        acks = [
            (topics.acks(unit), json.dumps({"state": state, "order_id": order}).encode())
            for state in ("ack", "enroute")
            for unit, order in zip(UNITS, orders, strict=True)
        ]
        publish_all(pub, acks[:8])
        wait_until(
            lambda: list(states(db_url).values()).count("acknowledged") >= 4,
            20,
            message="part of the acknowledgements applied",
        )
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        publish_all(pub, acks[8:])  # queued in the dispatcher's persistent session
    with dispatcher_process(db_url, mqtt_url, topics):
        wait_equal(lambda: set(states(db_url).values()), {"enroute"}, timeout=30)
    applied = rows(
        db_url,
        "SELECT kind, count(*) FROM events WHERE kind IN ('acknowledged', 'enroute')"
        " GROUP BY kind ORDER BY kind",
    )
    assert applied == [("acknowledged", len(UNITS)), ("enroute", len(UNITS))]


def test_a_broker_restart_while_orders_go_out_loses_none(db_url, tmp_path, topics):
    with EmbeddedMosquitto(tmp_path / "mq") as broker:
        host, port = "127.0.0.1", broker.port
        terminals = Terminals(host, port, topics)
        try:
            with running_dispatcher(db_url, host, port, topics, ack_s=3600):
                sent = [dispatch(db_url, unit) for unit in UNITS[:8]]
                wait_until(lambda: len(set(terminals.received)) >= 4, 20, message="some orders")
                broker.restart()
                sent += [dispatch(db_url, unit) for unit in UNITS[8:]]
                wait_equal(lambda: set(terminals.received), set(sent), timeout=30)
                wait_until(lambda: unpublished(db_url) == 0, 20, message="every order stamped")
        finally:
            terminals.close()


def test_a_postgres_restart_mid_dispatch_loses_none(own_postgres, mqtt_hostport, topics):
    pg, url = own_postgres
    host, port = mqtt_hostport
    terminals = Terminals(host, port, topics)
    try:
        with running_dispatcher(url, host, port, topics, ack_s=3600):
            sent = [dispatch(url, unit) for unit in UNITS[:8]]
            wait_until(lambda: len(set(terminals.received)) >= 4, 20, message="some orders")
            pg.restart("immediate")
            sent += [dispatch(url, unit) for unit in UNITS[8:]]
            wait_equal(lambda: set(terminals.received), set(sent), timeout=30)
            wait_until(lambda: unpublished(url) == 0, 20, message="every order stamped")
    finally:
        terminals.close()
    assert sorted(states(url).values()) == ["sent"] * len(UNITS)
