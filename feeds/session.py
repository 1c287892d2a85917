"""An MQTT session whose messages are acknowledged only after the caller has
stored them: QoS 1, persistent (clean_session False), manual acks, received
messages handed over through a bounded queue. Used by the ingest and the
dispatch workers."""

from __future__ import annotations

import logging
import queue
import struct
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import paho.mqtt.client as mqtt

from feeds.mqtt_client import BufferedClient
from feeds.pipeline import Message

log = logging.getLogger("dispatchmap.mqtt")
_PUBACK = struct.Struct("!BBH")  # MQTT 3.1.1 PUBACK: type 0x40, remaining length 2, packet id


class AckedSession:
    """``filters()`` gives the topic filters, subscribed again on every connect
    (harmless with a persistent session, needed when the broker lost it)."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        client_id: str,
        filters: Callable[[], list[str]],
        queue_max: int,
        credentials: tuple[str, str | None] | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.filters = filters
        self.queue: queue.Queue[Message] = queue.Queue(maxsize=queue_max)
        self.connected = threading.Event()
        self.stopping = threading.Event()
        self.client = BufferedClient(
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

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            log.warning("broker refused connection: %s", reason_code)
            return
        client.subscribe([(f, 1) for f in self.filters()])
        self.connected.set()
        log.info("connected to broker %s:%s", self.host, self.port)

    def _on_message(self, client, userdata, msg):
        message = Message(msg.topic, bytes(msg.payload), datetime.now(UTC), msg.mid)
        # A full queue blocks the network thread (backpressure), but never past
        # stop(): the message is unacknowledged, so the broker redelivers it.
        while not self.stopping.is_set():
            try:
                self.queue.put(message, timeout=0.5)
                return
            except queue.Full:
                continue

    def start(self) -> None:
        """Connect (retrying in the background) and start the network thread."""
        self.client.connect_async(self.host, self.port, keepalive=30)
        self.client.loop_start()

    def ack(self, message: Message) -> None:
        """Acknowledge a stored message to the broker (QoS 0 ones have no id)."""
        if message.mid:
            self.client.ack(message.mid, 1)

    def ack_all(self, messages: Sequence[Message]) -> None:
        """Acknowledge a stored batch in one write. paho's ``ack`` queues one
        4-byte PUBACK at a time, each waking its network thread and costing a
        send: thousands per batch, the largest cost of the ingest after
        decoding. The PUBACKs here are the same bytes in the same order, handed
        to paho's out queue as one buffer (paho-mqtt is pinned: this uses its
        internal ``_packet_queue``, the method its own ``ack`` ends in)."""
        packet = b"".join(_PUBACK.pack(mqtt.PUBACK, 2, m.mid) for m in messages if m.mid)
        if packet:
            self.client._packet_queue(mqtt.PUBACK, packet, 0, 1)

    def stop(self) -> None:
        self.stopping.set()
        self.client.loop_stop()
        self.client.disconnect()
