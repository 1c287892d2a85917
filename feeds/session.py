"""An MQTT session whose messages are acknowledged only after the caller has
stored them: QoS 1, persistent (clean_session False), manual acks, received
messages handed over through a bounded queue. Used by the ingest and the
dispatch workers."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from datetime import UTC, datetime

import paho.mqtt.client as mqtt

from feeds.pipeline import Message

log = logging.getLogger("dispatchmap.mqtt")


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

    def stop(self) -> None:
        self.stopping.set()
        self.client.loop_stop()
        self.client.disconnect()
