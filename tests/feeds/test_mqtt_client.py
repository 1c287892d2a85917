"""The buffered paho client delivers exactly what the broker sends, in order:
packets split across its 64 KiB reads, payloads larger than a read, and after
the broker drops the connection."""

from __future__ import annotations

import threading
import uuid

import paho.mqtt.client as mqtt

from feeds.mqtt_client import CHUNK_BYTES, BufferedClient
from tests.conftest import wait_until
from tests.helpers import publisher


class Collector:
    def __init__(self, host: str, port: int, topic: str, client_id: str) -> None:
        self.got: list[bytes] = []
        self.connects = 0
        self.subscribed = threading.Event()
        self.client = BufferedClient(
            mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311
        )
        self.client.on_connect = lambda c, *_: (
            setattr(self, "connects", self.connects + 1),
            c.subscribe(topic, 1),
        )
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        self.client.on_message = lambda c, u, msg: self.got.append(bytes(msg.payload))
        self.client.reconnect_delay_set(min_delay=1, max_delay=2)
        self.client.connect(host, port)
        self.client.loop_start()
        assert self.subscribed.wait(10), "no SUBACK"

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def payloads(count: int) -> list[bytes]:
    """Sizes that put packet boundaries everywhere within the reads, some
    payloads bigger than one read."""
    sizes = [1, 2, 127, 128, 300, 16383, 16384, CHUNK_BYTES - 3, CHUNK_BYTES + 7, 200_000]
    return [f"{i:06d}:".encode() + bytes([i % 251]) * sizes[i % len(sizes)] for i in range(count)]


def test_every_payload_arrives_whole_and_in_order(mqtt_hostport, topics):
    host, port = mqtt_hostport
    topic = f"{topics.prefix}/buffered"
    sent = payloads(400) + [f"small-{i}".encode() for i in range(3000)]
    collector = Collector(host, port, topic, f"buf-{uuid.uuid4().hex[:8]}")
    try:
        with publisher(host, port) as pub:
            infos = [pub.publish(topic, p, qos=1) for p in sent]
            for info in infos:
                info.wait_for_publish(30)
        wait_until(lambda: len(collector.got) >= len(sent), 30, message="every message")
        assert collector.got == sent
    finally:
        collector.close()


def test_reads_go_on_after_the_broker_drops_the_connection(mqtt_hostport, topics):
    host, port = mqtt_hostport
    topic = f"{topics.prefix}/dropped"
    client_id = f"buf-{uuid.uuid4().hex[:8]}"
    collector = Collector(host, port, topic, client_id)
    try:
        with publisher(host, port) as pub:
            pub.publish(topic, b"before", qos=1).wait_for_publish(10)
            wait_until(lambda: collector.got == [b"before"], 10, message="first message")
            # A second client with the same id makes the broker close the first.
            intruder = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
            intruder.connect(host, port)
            intruder.disconnect()
            wait_until(lambda: collector.connects >= 2, 15, message="reconnect")
            collector.subscribed.clear()
            collector.subscribed.wait(10)
            pub.publish(topic, b"after", qos=1).wait_for_publish(10)
            wait_until(lambda: b"after" in collector.got, 10, message="message after reconnect")
        assert collector.got[0] == b"before" and collector.got[-1] == b"after"
    finally:
        collector.close()
