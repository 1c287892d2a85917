"""What the JT/T 808 gateway runs on: the broker (QoS 1 publishes awaited
on the event loop), the roster (devices tied to units, cached), the server."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections.abc import Callable

import paho.mqtt.client as mqtt
import psycopg

from feeds.jt808_gateway import Gateway
from geo import queries

log = logging.getLogger("dispatchmap.jt808")


class Broker:
    """A paho client on its own network thread; :meth:`publish` returns when
    the broker acknowledged (PUBACK), False after ``timeout_s`` (the message
    may still arrive: the ingest stores a fix once)."""

    def __init__(
        self,
        host: str,
        port: int,
        client_id: str | None = None,
        credentials: tuple[str, str | None] | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        self.timeout_s = timeout_s
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=client_id or f"jt808-{uuid.uuid4().hex[:8]}"
        )
        if credentials:
            self.client.username_pw_set(*credentials)
        self.client.max_inflight_messages_set(5000)  # one per reporting terminal at once
        # While the broker is away paho keeps what is published; bounded, as
        # the terminals send again what was not answered.
        self.client.max_queued_messages_set(100_000)
        self.client.on_publish = self._on_publish
        self.connected = threading.Event()
        self.client.on_connect = lambda *a: self.connected.set()
        self.client.on_disconnect = lambda *a: self.connected.clear()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiting: dict[int, asyncio.Future[bool]] = {}
        self._acks: list[int] = []
        self._acks_lock = threading.Lock()
        self.host, self.port = host, port

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.client.connect_async(self.host, self.port)
        self.client.loop_start()

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()

    def _on_publish(self, client: object, userdata: object, mid: int, *rest: object) -> None:
        # paho's network thread: hand the ids over to the event loop, which
        # registered each future before this could run (publish and register
        # do not yield). One wake-up for all the PUBACKs of a socket read, not
        # one each: a wake-up costs the loop more than the ack itself.
        with self._acks_lock:
            self._acks.append(mid)
            if len(self._acks) > 1:
                return  # a wake-up is already on its way
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._acked)

    def _acked(self) -> None:
        with self._acks_lock:
            mids, self._acks = self._acks, []
        for mid in mids:
            future = self._waiting.pop(mid, None)
            if future is not None and not future.done():
                future.set_result(True)

    async def publish(self, topic: str, payload: bytes) -> bool:
        assert self._loop is not None
        info = self.client.publish(topic, payload, qos=1)
        if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
            log.warning("publish to %s failed: %s", topic, mqtt.error_string(info.rc))
            return False
        future = self._loop.create_future()
        self._waiting[info.mid] = future
        try:
            async with asyncio.timeout(self.timeout_s):
                return await future
        except TimeoutError:
            return False
        finally:
            self._waiting.pop(info.mid, None)


class Roster:
    """JT/T 808 terminals tied to units, read from the database every
    ``refresh_s`` and, for a terminal not known, at most every ``miss_s``
    (so a unit added to the roster can register within seconds)."""

    def __init__(self, database_url: str, refresh_s: float = 60.0, miss_s: float = 5.0) -> None:
        self.database_url = database_url
        self.refresh_s, self.miss_s = refresh_s, miss_s
        self.units: dict[str, str] = {}
        self._read_at = -1e9
        self._ever_read = False
        self._lock = asyncio.Lock()

    async def unit_of(self, device: str) -> str | None:
        """The unit of ``device``, None if the roster has none; raises
        :class:`LookupError` while the roster was never read (database away),
        so a terminal is not told it is unknown when nobody could check."""
        age = time.monotonic() - self._read_at
        if age > self.refresh_s or (device not in self.units and age > self.miss_s):
            async with self._lock:
                if time.monotonic() - self._read_at > self.miss_s:
                    await asyncio.to_thread(self._read)
        if not self._ever_read:
            raise LookupError("the roster could not be read")
        return self.units.get(device)

    def _read(self) -> None:
        try:
            with psycopg.connect(self.database_url, connect_timeout=5) as conn:
                self.units = queries.jt808_terminals(conn)
            self._ever_read = True
        except psycopg.OperationalError as exc:
            log.warning("roster unavailable (%s); keeping the last one read", exc)
        self._read_at = time.monotonic()  # a database away is not asked again at once


async def serve(
    gateway: Gateway, host: str, port: int, ready: Callable[[int], None] | None = None
) -> None:
    """Accept terminals until cancelled; ``ready(port)`` once listening."""
    server = await asyncio.start_server(gateway.serve, host, port, backlog=4096, limit=65536)
    bound = server.sockets[0].getsockname()[1]
    log.info("JT/T 808 gateway listening on %s:%d", host, bound)
    if ready is not None:
        ready(bound)
    try:
        async with server:
            await server.serve_forever()
    finally:
        await gateway.shutdown()
