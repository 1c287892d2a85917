"""The buffered paho client delivers exactly what the broker sends, in order:
packets split across its 64 KiB reads, payloads larger than a read, and after
the broker drops the connection; through paho's own ``on_message`` and through
the fast path that splits PUBLISH packets off the buffer (``on_publishes``)."""

from __future__ import annotations

import struct
import threading
import uuid

import paho.mqtt.client as mqtt
import pytest

from feeds.mqtt_client import CHUNK_BYTES, BufferedClient
from tests.conftest import wait_until
from tests.helpers import publisher

PATHS = pytest.mark.parametrize("fast", [False, True], ids=["paho", "fast"])


class Collector:
    def __init__(self, host: str, port: int, topic: str, client_id: str, fast: bool) -> None:
        self.got: list[bytes] = []
        self.topics: set[bytes] = set()
        self.fast_calls = 0
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
        if fast:
            self.client.on_publishes = self._publishes
        self.client.reconnect_delay_set(min_delay=1, max_delay=2)
        self.client.connect(host, port)
        self.client.loop_start()
        assert self.subscribed.wait(10), "no SUBACK"

    def _publishes(self, batch: list[tuple[bytes, bytes, int]]) -> None:
        self.fast_calls += 1
        for topic, payload, mid in batch:
            self.topics.add(topic)
            self.got.append(payload)
            if mid:
                self.client.ack(mid, 1)  # auto-ack is paho's; the fast path leaves it to us

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def payloads(count: int) -> list[bytes]:
    """Sizes that put packet boundaries everywhere within the reads, some
    payloads bigger than one read."""
    sizes = [1, 2, 127, 128, 300, 16383, 16384, CHUNK_BYTES - 3, CHUNK_BYTES + 7, 200_000]
    return [f"{i:06d}:".encode() + bytes([i % 251]) * sizes[i % len(sizes)] for i in range(count)]


@PATHS
def test_every_payload_arrives_whole_and_in_order(mqtt_hostport, topics, fast):
    host, port = mqtt_hostport
    topic = f"{topics.prefix}/buffered"
    sent = payloads(400) + [f"small-{i}".encode() for i in range(3000)]
    # Then QoS 0 (no packet id); MQTT keeps order only within one QoS, hence after.
    sent_qos0 = [f"qos0-{i}".encode() for i in range(300)]
    collector = Collector(host, port, topic, f"buf-{uuid.uuid4().hex[:8]}", fast)
    try:
        with publisher(host, port) as pub:
            for batch, qos in ((sent, 1), (sent_qos0, 0)):
                infos = [pub.publish(topic, p, qos=qos) for p in batch]
                for info in infos:
                    info.wait_for_publish(30)
        sent += sent_qos0
        wait_until(lambda: len(collector.got) >= len(sent), 30, message="every message")
        assert collector.got == sent
        if fast:
            assert collector.topics == {topic.encode()}
            assert collector.fast_calls < len(sent) / 5  # many messages per read
    finally:
        collector.close()


@PATHS
def test_reads_go_on_after_the_broker_drops_the_connection(mqtt_hostport, topics, fast):
    host, port = mqtt_hostport
    topic = f"{topics.prefix}/dropped"
    client_id = f"buf-{uuid.uuid4().hex[:8]}"
    collector = Collector(host, port, topic, client_id, fast)
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


def publish_packet(topic: bytes, payload: bytes, mid: int | None) -> bytes:
    body = struct.pack("!H", len(topic)) + topic
    body += struct.pack("!H", mid) if mid is not None else b""
    body += payload
    length, rest = b"", len(body)
    while True:
        byte, rest = rest % 128, rest // 128
        length += bytes([byte | (128 if rest else 0)])
        if not rest:
            break
    return bytes([0x32 if mid is not None else 0x30]) + length + body


def split_off(buffer: bytes) -> tuple[list[tuple[bytes, bytes, int]], int]:
    client = BufferedClient(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    got: list[tuple[bytes, bytes, int]] = []
    client.on_publishes = got.extend
    client._rbuf, client._rpos = buffer, 0
    client._take_publishes()
    return got, client._rpos


def test_the_fast_path_stops_at_what_it_must_leave_to_paho():
    a = publish_packet(b"dm/gps/a", b"x" * 200, 7)  # a two-byte remaining length
    b = publish_packet(b"dm/gps/b", b"", None)
    qos2 = b"\x34" + a[1:]
    suback = b"\x90\x03\x00\x01\x01"
    assert split_off(a + b) == ([(b"dm/gps/a", b"x" * 200, 7), (b"dm/gps/b", b"", 0)], len(a + b))
    # Cut anywhere inside the second packet: the first is taken, the rest waits for paho.
    for cut in range(1, len(a)):
        assert split_off(b + a[:cut]) == ([(b"dm/gps/b", b"", 0)], len(b))
    assert split_off(a + suback + b) == ([(b"dm/gps/a", b"x" * 200, 7)], len(a))
    assert split_off(qos2 + a) == ([], 0)
    # Malformed: a topic longer than the packet, a remaining length of 5 bytes.
    bad_topic = b"\x32\x04\x00\x09ab"
    assert split_off(bad_topic + a) == ([], 0)
    assert split_off(b"\x32\xff\xff\xff\xff\x01" + a) == ([], 0)
