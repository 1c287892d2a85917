"""How the simulator reaches the broker: one connection for everything (an
open broker, or one MQTT user given in ``MQTT_URL``), or one connection per
device with that device's own credentials, as real terminals connect to the
production broker (:mod:`feeds.broker_auth`).

Per device, each message goes out on the connection of the user whose
``write_topics`` hold its topic: a fix on its tracker's or phone's, a LIP
report on its radio's, a crew's ack on its unit's radio (else its phone), a
110 call on the gateway's. A topic no user may write (an ``unknown_device``
fault's ghost topic) is not sent, as no real device could; ``unowned`` counts
those. Orders are read by each unit's radio (else its phone) on its own
``orders`` topic and handed to the simulation's :class:`Inbox`.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterable, Mapping, Sequence

import paho.mqtt.client as mqtt

from feeds.simulator import Inbox
from feeds.topics import Topics

log = logging.getLogger("dispatchmap.simulator")
MAX_INFLIGHT = 1000  # QoS 1 messages a connection keeps unacknowledged


def _client(
    client_id: str, credentials: tuple[str, str | None] | None, tls: ssl.SSLContext | None
) -> mqtt.Client:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
    client.max_inflight_messages_set(MAX_INFLIGHT)
    if credentials is not None:
        client.username_pw_set(*credentials)
    if tls is not None:
        client.tls_set_context(tls)
    return client


class SharedConnection:
    """Every device's messages on one connection, which also reads every unit's orders."""

    def __init__(
        self,
        host: str,
        port: int,
        topics: Topics,
        inbox: Inbox,
        client_id: str,
        credentials: tuple[str, str | None] | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.client = _client(client_id, credentials, tls)
        self.client.on_message = lambda c, u, m: inbox.put(m.topic.rsplit("/", 1)[1], m.payload)
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(topics.orders("+"), qos=1)
        self.client.connect(host, port)
        self.client.loop_start()

    def publish(self, topic: str, payload: bytes) -> object:
        return self.client.publish(topic, payload, qos=1)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


class DeviceConnections:
    """One connection per device user, opened on its first message (order
    readers at once, so no order is missed). ``rows`` are the credentials
    table's (:func:`feeds.broker_auth.read_credentials`); ``tls``, one
    context for all, encrypts every connection."""

    def __init__(
        self,
        rows: Sequence[Mapping[str, str]],
        host: str,
        port: int,
        topics: Topics,
        inbox: Inbox,
        units: Iterable[str],
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.host, self.port, self.topics, self.inbox = host, port, topics, inbox
        self.tls = tls
        self.passwords = {r["username"]: r["password"] for r in rows}
        self.owner: dict[str, str] = {}
        for row in rows:  # roster order: a unit's radio before its phone
            for topic in row["write_topics"].split():
                self.owner.setdefault(topic, row["username"])
        self.clients: dict[str, mqtt.Client] = {}
        self.unowned = 0
        readers = self._order_readers(rows, set(units))
        for username, unit_id in readers.items():
            self._connect(username, topics.orders(unit_id))

    def _order_readers(self, rows: Sequence[Mapping[str, str]], units: set[str]) -> dict[str, str]:
        """username -> unit id: the one device of each unit that reads its orders."""
        by_unit: dict[str, str] = {}
        for kind in ("radio", "phone"):
            for row in rows:
                unit = row["unit_id"]
                orders = self.topics.orders(unit)
                if row["kind"] == kind and unit in units and orders in row["read_topics"].split():
                    by_unit.setdefault(unit, row["username"])
        return {username: unit for unit, username in by_unit.items()}

    def _connect(self, username: str, orders: str | None = None) -> mqtt.Client:
        client = _client(username, (username, self.passwords[username]), self.tls)
        if orders is not None:
            unit_id = orders.rsplit("/", 1)[1]
            client.on_message = lambda c, u, msg: self.inbox.put(unit_id, msg.payload)
            client.on_connect = lambda c, u, f, rc, p: c.subscribe(orders, qos=1)
        client.connect_async(self.host, self.port)
        client.loop_start()
        self.clients[username] = client
        return client

    def publish(self, topic: str, payload: bytes) -> object:
        """Send on the owning device's connection; None if no device owns ``topic``."""
        username = self.owner.get(topic)
        if username is None:
            if not self.unowned:
                log.warning("no device may publish to %s: not sent (counted as unowned)", topic)
            self.unowned += 1
            return None
        client = self.clients.get(username) or self._connect(username)
        return client.publish(topic, payload, qos=1)

    def close(self) -> None:
        for client in self.clients.values():
            client.disconnect()  # first: it wakes the loop thread, so loop_stop is quick
            client.loop_stop()
        closed, unowned = len(self.clients), self.unowned
        log.info("%d device connections closed; %d messages unowned", closed, unowned)
