"""Two `dispatchmap dispatcher` processes, as a station runs them: one holds
the dispatcher lock and works, the other stands by. After ``kill -9`` of the
active one the standby takes over within 10 s: an order committed while
nobody was active reaches its terminal once, an acknowledgement is applied,
and alarms keep coming."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from feeds.leadership import DISPATCH_LOCK_KEY
from geo.intake import NewIncident
from tests.conftest import wait_until
from tests.helpers import Inbox, publish_all, publisher
from usecases import incidents as inc

SCENE = (24.9452, 60.1690)
HOLDERS = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s AND granted"


@contextmanager
def dispatcher(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dispatchmap.cli", "dispatcher"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            assert proc.wait(30) == 0, log.read_text()


def active(log: Path) -> bool:
    return "dispatcher active" in log.read_text()


def count(db_url: str, query: str, *params: object) -> int:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(query, params).fetchone()
        return int(row[0]) if row else 0


def test_the_standby_takes_over_after_kill_9(db_url, mqtt_url, mqtt_hostport, topics, tmp_path):
    host, port = mqtt_hostport
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "MQTT_URL": mqtt_url,
        "DM_TOPIC_PREFIX": topics.prefix,
        "DM_TOPIC_OWNTRACKS_PREFIX": topics.owntracks_prefix,
        "DM_DISPATCH_TICK_S": "0.2",
        "DM_DISPATCH_ACK_S": "1",
        "DM_DISPATCH_CLIENT_ID": f"dispatch-{topics.prefix}",
    }
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    orders = Inbox(host, port, topics.orders("+"))
    try:
        with dispatcher(env, logs[0]) as first:
            wait_until(lambda: active(logs[0]), 20, message="the first dispatcher active")
            with dispatcher(env, logs[1]) as second, publisher(host, port) as pub:
                wait_until(lambda: "standing by" in logs[1].read_text(), 20, message="a standby")
                # One holder of the dispatcher lock: the first process's connection.
                assert count(db_url, HOLDERS, DISPATCH_LOCK_KEY) == 1
                assert not active(logs[1])

                first.send_signal(signal.SIGKILL)
                first.wait(10)
                killed_at = time.monotonic()
                with psycopg.connect(db_url) as conn, conn.transaction():
                    now = datetime.now(UTC)
                    new = NewIncident("assault", 1, *SCENE, now, "failover", None)
                    incident_id = inc.create_incident(conn, new, "110", "110", now)
                    assert incident_id is not None
                    (order,), _ = inc.dispatch_units(
                        conn, incident_id, [inc.Pick("U001")], "desk:alice", now
                    )
                wait_until(lambda: orders.messages, 15, message="the order after failover")
                assert time.monotonic() - killed_at < 10
                assert active(logs[1])
                # An order not acknowledged in time raises its alarm: alarms keep coming.
                wait_until(
                    lambda: count(
                        db_url,
                        "SELECT count(*) FROM alarms WHERE order_id = %s AND cleared_at IS NULL",
                        order.id,
                    ),
                    10,
                    message="the not-acknowledged alarm from the new active dispatcher",
                )
                ack = {"state": "ack", "order_id": order.id}
                publish_all(pub, [(topics.acks("U001"), json.dumps(ack).encode())])
                acked = "SELECT count(*) FROM orders WHERE id = %s AND state = 'acknowledged'"
                wait_until(
                    lambda: count(db_url, acked, order.id), 10, message="the acknowledgement"
                )
                assert second.poll() is None
    finally:
        orders.close()
    sent = [json.loads(p)["order_id"] for _, p in orders.messages]
    assert sent == [order.id]  # published once: the killed dispatcher never saw it
