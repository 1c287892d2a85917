"""An MQTT session whose messages are acknowledged only after the caller has
stored them: QoS 1, persistent (clean_session False), manual acks, received
messages handed over through a bounded buffer, a socket read at a time. Used
by the ingest and the dispatch workers."""

from __future__ import annotations

import logging
import queue
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import paho.mqtt.client as mqtt

from feeds.mqtt_client import BufferedClient, Publish
from feeds.pipeline import Message

log = logging.getLogger("dispatchmap.mqtt")
_PUBACK = struct.Struct("!BBH")  # MQTT 3.1.1 PUBACK: type 0x40, remaining length 2, packet id


class MessageBuffer:
    """A bounded FIFO between paho's network thread and a worker.

    The network thread adds what one socket read held (hundreds of messages)
    in one call, and the worker takes a batch in one call: one lock round
    each, not one per message. It never holds more than ``maxsize``: the
    network thread waits for room (:meth:`put_many`), so it stops reading and
    the broker keeps the backlog (backpressure).
    """

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._items: deque[Message] = deque()
        self._cond = threading.Condition()

    def put_many(self, messages: Sequence[Message], stopping: threading.Event) -> bool:
        """Add ``messages`` in order, waiting for room; False if ``stopping``
        is set first (those not added stay unacknowledged: the broker
        redelivers them)."""
        rest = list(messages)
        with self._cond:
            while rest:
                room = self.maxsize - len(self._items)
                if room <= 0:
                    if stopping.is_set():
                        return False
                    self._cond.wait(0.5)
                    continue
                self._items.extend(rest[:room])
                del rest[:room]
                self._cond.notify_all()
        return True

    def take(self, most: int, gather_s: float, timeout_s: float) -> list[Message]:
        """Up to ``most`` messages: waits up to ``timeout_s`` for the first, then
        up to ``gather_s`` more for the batch to fill; [] if none came."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._items, timeout_s):
                return []
            deadline = time.monotonic() + gather_s
            while len(self._items) < most:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            items = self._items
            batch = [items.popleft() for _ in range(min(most, len(items)))]
            self._cond.notify_all()
        return batch

    def get(self, timeout: float) -> Message:
        """One message, as :meth:`queue.Queue.get` (raises :class:`queue.Empty`)."""
        batch = self.take(1, 0.0, timeout)
        if not batch:
            raise queue.Empty
        return batch[0]

    def qsize(self) -> int:
        return len(self._items)


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
        self.queue = MessageBuffer(queue_max)
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
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message  # what the fast path leaves to paho
        self.client.on_publishes = self._on_publishes

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            log.warning("broker refused connection: %s", reason_code)
            return
        client.subscribe([(f, 1) for f in self.filters()])
        log.info("connected to broker %s:%s", self.host, self.port)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties):
        # Ready only once the broker has the subscriptions: set at CONNACK, a
        # message published from elsewhere could reach the broker before our
        # SUBSCRIBE and, on a first connection, be delivered to nobody.
        refused = [c for c in reason_codes if c.is_failure]
        if refused:
            log.warning("broker refused subscriptions: %s", refused)
            return
        self.connected.set()

    def _on_message(self, client, userdata, msg):
        message = Message(msg.topic, bytes(msg.payload), datetime.now(UTC), msg.mid)
        self.queue.put_many([message], self.stopping)

    def _on_publishes(self, publishes: list[Publish]) -> None:
        # One read, one moment received. A topic that is not UTF-8 is kept
        # (with replacement characters): the ingest quarantines it as unknown.
        now = datetime.now(UTC)
        self.queue.put_many(
            [Message(t.decode("utf-8", "replace"), p, now, mid) for t, p, mid in publishes],
            self.stopping,
        )

    def start(self) -> None:
        """Connect (retrying in the background) and start the network thread."""
        self.client.connect_async(self.host, self.port, keepalive=30)
        self.client.loop_start()

    def ack(self, message: Message) -> None:
        """Acknowledge a stored message to the broker (QoS 0 ones have no id)."""
        if message.mid:
            self.client.ack(message.mid, 1)

    @staticmethod
    def puback_packet(messages: Sequence[Message]) -> bytes:
        """The PUBACKs of ``messages`` as one buffer, in order (QoS 0 ones have
        none); built by the caller's decode thread, sent by :meth:`send_acks`."""
        return b"".join([_PUBACK.pack(mqtt.PUBACK, 2, m.mid) for m in messages if m.mid])

    def send_acks(self, packet: bytes) -> None:
        """Acknowledge a stored batch in one write. paho's ``ack`` queues one
        4-byte PUBACK at a time, each waking its network thread and costing a
        send: thousands per batch, the largest cost of the ingest after
        decoding. ``packet`` (:meth:`puback_packet`) holds the same bytes in
        the same order, handed to paho's out queue as one buffer (paho-mqtt is
        pinned: this uses its internal ``_packet_queue``, the method its own
        ``ack`` ends in)."""
        if packet:
            self.client._packet_queue(mqtt.PUBACK, packet, 0, 1)

    def stop(self) -> None:
        self.stopping.set()
        self.client.loop_stop()
        self.client.disconnect()
