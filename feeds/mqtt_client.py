"""paho-mqtt's client, reading the socket in large chunks, with a fast path
for the messages a subscriber receives by the thousand.

paho 2.2 reads each incoming packet with three ``recv`` calls (the command
byte, the remaining length byte by byte, then the rest) and, for QoS 1
deliveries, only one packet per ``select``: four or more system calls and a
pass through its loop for every message, the largest part of what a
subscriber costs per message. :class:`BufferedClient` serves those small reads
from a 64 KiB buffer filled by one ``recv``, and keeps reading packets while
the buffer holds any (the socket would not wake ``select`` for bytes already
taken off it). The bytes paho sees, and their order, are unchanged.

With ``on_publishes`` set, the PUBLISH packets (QoS 0 and 1, MQTT 3.1.1) that
lie whole in the buffer are split off it directly and handed over together,
one call per read: ``on_publishes([(topic, payload, mid), ...])`` with the
topic as raw bytes. That skips paho's per-message work (an ``MQTTMessage``,
log formatting, the topic-filter callback lookup), which cost more than the
rest of a subscriber's loop. Every other packet (CONNACK, SUBACK, PINGRESP,
QoS 2, a packet split across reads) still goes through paho, in order.

This overrides paho internals (``_sock_recv``, ``_sock_close``,
``_packet_read``): paho-mqtt is pinned in ``requirements.lock``, and
``tests/feeds/test_mqtt_client.py`` checks packets split across chunks, large
payloads and reconnects on a real broker, through both paths.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt

CHUNK_BYTES = 65536
log = logging.getLogger("dispatchmap.mqtt")

Publish = tuple[bytes, bytes, int]
"""(topic as sent, payload, packet id; 0 for QoS 0)."""


class BufferedClient(mqtt.Client):
    """A drop-in :class:`paho.mqtt.client.Client` with buffered socket reads."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rbuf = b""
        self._rpos = 0
        self.on_publishes: Callable[[list[Publish]], None] | None = None

    def _sock_recv(self, bufsize: int) -> bytes:
        if self._rpos >= len(self._rbuf):
            data = super()._sock_recv(max(bufsize, CHUNK_BYTES))  # BlockingIOError: no data
            if len(data) <= bufsize:
                return data
            self._rbuf, self._rpos = data, 0
        start = self._rpos
        self._rpos = min(start + bufsize, len(self._rbuf))
        return self._rbuf[start : self._rpos]

    def loop_read(self, max_packets: int = 1) -> mqtt.MQTTErrorCode:
        rc = super().loop_read(max_packets)
        while rc == mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS and self._buffered() and self._sock:
            rc = super().loop_read(1)
        return rc

    def _packet_read(self) -> mqtt.MQTTErrorCode:
        if (
            self.on_publishes is not None
            and self._in_packet["command"] == 0  # not in the middle of a packet
            and self._protocol != mqtt.MQTTv5  # v5 PUBLISH carries properties
        ):
            if not self._buffered():
                try:
                    data = super()._sock_recv(CHUNK_BYTES)
                except BlockingIOError:
                    return mqtt.MQTTErrorCode.MQTT_ERR_AGAIN
                except OSError as err:
                    log.warning("failed to receive on socket: %s", err)
                    return mqtt.MQTTErrorCode.MQTT_ERR_CONN_LOST
                if not data:
                    return mqtt.MQTTErrorCode.MQTT_ERR_CONN_LOST
                self._rbuf, self._rpos = data, 0
            if self._take_publishes():
                with self._msgtime_mutex:
                    self._last_bytes_received = mqtt.time_func()  # paho's keepalive clock
                if not self._buffered():
                    return mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS
        return super()._packet_read()

    def _take_publishes(self) -> int:
        """Split the whole QoS 0/1 PUBLISH packets at the head of the buffer
        off it and hand them to ``on_publishes``; stop at anything else (left
        to paho, which also reports a malformed packet)."""
        buf, pos, end = self._rbuf, self._rpos, len(self._rbuf)
        got: list[Publish] = []
        while pos < end:
            first = buf[pos]
            qos = (first >> 1) & 3
            if first & 0xF0 != mqtt.PUBLISH or qos > 1:
                break
            length, shift, i = 0, 0, pos + 1
            while i < end and i - pos <= 4:
                byte = buf[i]
                length |= (byte & 127) << shift
                shift += 7
                i += 1
                if byte < 128:
                    break
            else:
                break  # remaining length cut by the read, or longer than 4 bytes
            stop = i + length
            if stop > end or length < 2:
                break  # the rest is in the next read, or malformed
            topic_end = i + 2 + ((buf[i] << 8) | buf[i + 1])
            body = topic_end + 2 if qos else topic_end
            if body > stop:
                break  # malformed
            mid = (buf[topic_end] << 8) | buf[topic_end + 1] if qos else 0
            got.append((buf[i + 2 : topic_end], buf[body:stop], mid))
            pos = stop
        self._rpos = pos
        if got:
            assert self.on_publishes is not None
            self.on_publishes(got)
        return len(got)

    def _buffered(self) -> bool:
        return self._rpos < len(self._rbuf)

    def _sock_close(self) -> None:
        self._rbuf, self._rpos = b"", 0  # bytes of a dead connection never reach the next
        super()._sock_close()
