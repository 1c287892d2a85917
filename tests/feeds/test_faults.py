"""Faults during a stream: kill -9 of a worker, a PostgreSQL restart and a
Mosquitto restart each end with every published message stored exactly once."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
import psycopg

from dispatchmap.services import EmbeddedMosquitto
from dispatchmap.settings import mqtt_host_port
from feeds.topics import Topics
from tests.conftest import wait_equal, wait_until
from tests.helpers import publish_all, publisher, running_ingest

DEVICES = [f"trk-c{i:02d}" for i in range(1, 17)]


def stream(topics: Topics, count: int) -> list[tuple[str, bytes]]:
    """``count`` good fixes, unique per (device, time), in the last hour."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    out = []
    for i in range(count):
        device = DEVICES[i % len(DEVICES)]
        at = start + timedelta(seconds=i // len(DEVICES))
        body = {"lat": 60.168 + (i % 7) * 1e-5, "lon": 24.94, "ts": at.isoformat(), "seq": i}
        out.append((topics.gps(device), json.dumps(body).encode()))
    return out


def accounted(db_url: str) -> tuple[int, int]:
    """(positions stored, quarantined for any reason other than a redelivery)."""
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM positions WHERE device_id <> 'probe'),"
            " (SELECT count(*) FROM quarantine WHERE reason <> 'duplicate')"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def ingest_process(db_url: str, mqtt_url: str, topics: Topics, client_id: str):
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "MQTT_URL": mqtt_url,
        "DM_TOPIC_PREFIX": topics.prefix,
        "DM_TOPIC_OWNTRACKS_PREFIX": topics.owntracks_prefix,
        "DM_INGEST_METRICS_PORT": "0",
        "DM_INGEST_BATCH_MAX": "200",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "dispatchmap.cli", "ingest", "--client-id", client_id],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def subscribed(db_url: str, pub: mqtt.Client, topics: Topics) -> None:
    """Publish probes until one is stored: then the worker's session exists."""

    def probe() -> bool:
        at = datetime.now(UTC).isoformat()
        publish_all(
            pub,
            [(topics.gps("probe"), json.dumps({"lat": 60.17, "lon": 24.94, "ts": at}).encode())],
        )
        with psycopg.connect(db_url) as conn:
            row = conn.execute(
                "SELECT count(*) FROM positions WHERE device_id = 'probe'"
            ).fetchone()
        return bool(row and row[0])

    wait_until(probe, 30, 0.5, message="the ingest worker to subscribe")


def test_kill_9_of_a_worker_mid_stream_loses_and_doubles_nothing(db_url, mqtt_url, topics):
    host, port = mqtt_host_port(mqtt_url)
    messages = stream(topics, 12000)
    client_id = f"ingest-{uuid.uuid4().hex[:8]}"
    worker = ingest_process(db_url, mqtt_url, topics, client_id)
    try:
        with publisher(host, port) as pub:
            subscribed(db_url, pub, topics)
        sender = publish_slowly(host, port, messages, 4000, f"pub-{uuid.uuid4().hex[:8]}")
        wait_until(lambda: accounted(db_url)[0] > 1000, 30, 0.01, message="part of the stream")
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        assert accounted(db_url)[0] < len(messages), "the kill came too late to prove anything"
        sender.join(60)
        worker = ingest_process(db_url, mqtt_url, topics, client_id)
        wait_equal(lambda: accounted(db_url), (len(messages), 0), timeout=60)
    finally:
        worker.kill()
        worker.wait(10)


def publish_slowly(
    host: str, port: int, messages: list[tuple[str, bytes]], per_s: float, client_id: str
) -> threading.Thread:
    """Publish from a thread at about ``per_s`` messages a second with a
    persistent session, so messages not yet acknowledged survive a broker restart."""

    def run() -> None:
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False
        )
        client.reconnect_delay_set(0.1, 1)
        client.connect(host, port)
        client.loop_start()
        infos = []
        for i, (topic, payload) in enumerate(messages):
            info = client.publish(topic, payload, qos=1)
            while info.rc == mqtt.MQTT_ERR_NO_CONN:  # the broker is restarting: send again
                threading.Event().wait(0.2)
                info = client.publish(topic, payload, qos=1)
            infos.append(info)
            if i % 50 == 49:
                threading.Event().wait(50 / per_s)
        for info in infos:
            # One that went out while the broker was down was sent again above.
            with contextlib.suppress(RuntimeError):
                info.wait_for_publish(60)
        client.loop_stop()
        client.disconnect()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_postgres_restart_mid_stream_loses_and_doubles_nothing(own_postgres, mqtt_hostport, topics):
    pg, url = own_postgres
    host, port = mqtt_hostport
    messages = stream(topics, 3000)
    with running_ingest(url, host, port, topics, batch_max=200) as worker:
        sender = publish_slowly(host, port, messages, 1500, f"pub-{uuid.uuid4().hex[:8]}")
        wait_until(lambda: accounted(url)[0] > 300, 30, message="part of the stream stored")
        pg.restart("immediate")
        sender.join(60)
        wait_equal(lambda: accounted(url), (len(messages), 0), timeout=60)
    assert worker.stats.db_errors >= 1, "the restart was not noticed: it proved nothing"


def test_mosquitto_restart_mid_stream_loses_and_doubles_nothing(db_url, tmp_path, topics):
    with EmbeddedMosquitto(tmp_path / "mq") as broker:
        host, port = "127.0.0.1", broker.port
        messages = stream(topics, 3000)
        with running_ingest(db_url, host, port, topics, batch_max=200):
            sender = publish_slowly(host, port, messages, 1500, f"pub-{uuid.uuid4().hex[:8]}")
            wait_until(lambda: accounted(db_url)[0] > 300, 30, message="part of the stream")
            assert accounted(db_url)[0] < len(messages)
            broker.restart()
            sender.join(90)
            wait_equal(lambda: accounted(db_url), (len(messages), 0), timeout=60)


def test_two_workers_share_one_feed(db_url, mqtt_hostport, topics):
    host, port = mqtt_hostport
    messages = stream(topics, 2000)
    with (
        running_ingest(db_url, host, port, topics, share_group="g1") as one,
        running_ingest(db_url, host, port, topics, share_group="g1") as two,
        publisher(host, port) as pub,
    ):
        publish_all(pub, messages)
        wait_equal(lambda: accounted(db_url), (len(messages), 0), timeout=60)
        wait_equal(lambda: one.stats.received + two.stats.received, len(messages))
        assert one.stats.received > 200 and two.stats.received > 200
