"""paho-mqtt's client, reading the socket in large chunks.

paho 2.2 reads each incoming packet with three ``recv`` calls (the command
byte, the remaining length byte by byte, then the rest) and, for QoS 1
deliveries, only one packet per ``select``: four or more system calls and a
pass through its loop for every message, the largest part of what a
subscriber costs per message. :class:`BufferedClient` serves those small reads
from a 64 KiB buffer filled by one ``recv``, and keeps reading packets while
the buffer holds any (the socket would not wake ``select`` for bytes already
taken off it). The bytes paho sees, and their order, are unchanged.

This overrides paho internals (``_sock_recv``, ``_sock_close``): paho-mqtt is
pinned in ``requirements.lock``, and ``tests/feeds/test_mqtt_client.py``
checks packets split across chunks, large payloads and reconnects on a real
broker.
"""

from __future__ import annotations

from typing import Any

import paho.mqtt.client as mqtt

CHUNK_BYTES = 65536


class BufferedClient(mqtt.Client):
    """A drop-in :class:`paho.mqtt.client.Client` with buffered socket reads."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rbuf = b""
        self._rpos = 0

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

    def _buffered(self) -> bool:
        return self._rpos < len(self._rbuf)

    def _sock_close(self) -> None:
        self._rbuf, self._rpos = b"", 0  # bytes of a dead connection never reach the next
        super()._sock_close()
