"""Small builders shared by tests that need running pieces (ingest, publisher, web).

Ingest, dispatcher and dashboard connect as their own roles (store.roles), as
`dispatchmap ingest | dispatcher | serve` do: ``db_url`` is the owner's URL."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any, TypeVar

import paho.mqtt.client as mqtt

from feeds.ingest import IngestWorker
from feeds.pipeline import Limits, Pipeline
from feeds.topics import Topics
from store.roles import role_url

if TYPE_CHECKING:
    from dispatchmap.settings import DashboardSettings

T = TypeVar("T")


@contextmanager
def running_ingest(
    db_url: str, host: str, port: int, topics: Topics, client_id: str | None = None, **kwargs
) -> Iterator[IngestWorker]:
    """An ingest worker on its own thread for the duration of the block."""
    worker = IngestWorker(
        mqtt_host=host,
        mqtt_port=port,
        database_url=role_url(db_url, "ingest"),
        topics=topics,
        pipeline=Pipeline(topics, Limits()),
        client_id=client_id or f"ingest-{uuid.uuid4().hex[:8]}",
        **kwargs,
    )
    worker.start()
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    if not worker.connected.wait(10):
        raise AssertionError("ingest did not connect to the broker")
    try:
        yield worker
    finally:
        worker.stop()
        thread.join(10)


Credentials = tuple[str, str | None]


@contextmanager
def publisher(
    host: str, port: int, credentials: Credentials | None = None
) -> Iterator[mqtt.Client]:
    """A connected QoS 1 publisher (as ``credentials``' user if given);
    ``wait_for_publish`` on what it sends."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:8]}")
    if credentials is not None:
        client.username_pw_set(*credentials)
    client.connect(host, port)
    client.loop_start()
    try:
        yield client
    finally:
        client.loop_stop()
        client.disconnect()


def publish_all(client: mqtt.Client, messages: list[tuple[str, bytes]]) -> None:
    infos = [client.publish(topic, payload, qos=1) for topic, payload in messages]
    for info in infos:
        info.wait_for_publish(10)


@contextmanager
def running_dispatcher(
    db_url: str,
    host: str,
    port: int,
    topics: Topics,
    credentials: Credentials | None = None,
    **limits,
):
    """A dispatch worker on its own thread, with quick timers for tests."""
    from feeds.dispatcher import DispatchWorker
    from usecases.alarms import Thresholds

    worker = DispatchWorker(
        mqtt_host=host,
        mqtt_port=port,
        database_url=role_url(db_url, "dispatcher"),
        topics=topics,
        client_id=f"dispatch-{uuid.uuid4().hex[:8]}",
        thresholds=Thresholds(**limits),
        tick_s=0.2,
        credentials=credentials,
    )
    worker.start()
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    if not worker.connected.wait(10):
        raise AssertionError("dispatcher did not connect to the broker")
    try:
        yield worker
    finally:
        worker.stop()
        thread.join(10)


class Inbox:
    """Collects what arrives on some topics, for tests to wait on."""

    def __init__(
        self, host: str, port: int, topic: str, credentials: Credentials | None = None
    ) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"inbox-{uuid.uuid4().hex[:8]}"
        )
        if credentials is not None:
            self.client.username_pw_set(*credentials)
        self.client.on_message = lambda c, u, m: self.messages.append((m.topic, bytes(m.payload)))
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *a: subscribed.set()
        self.client.connect(host, port)
        self.client.subscribe(topic, qos=1)
        self.client.loop_start()
        if not subscribed.wait(10):
            raise AssertionError(f"could not subscribe to {topic}")

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def http_status(request: object, timeout: float = 10.0) -> int:
    """The status of one HTTP request (a URL or urllib Request), its socket closed
    whatever the answer (an unclosed one fails a later test as a ResourceWarning)."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # type: ignore[arg-type]
            return int(response.status)
    except urllib.error.HTTPError as exc:
        with exc:
            return int(exc.code)


@contextmanager
def served_dashboard(db_url: str, settings: DashboardSettings, pool_size: int = 4) -> Iterator[str]:
    """The dashboard on ``db_url``'s database, served from a thread for the
    block (dash is imported only by the tests that serve it); its base URL."""
    from werkzeug.serving import make_server

    from dashboard.app import create_app
    from dispatchmap.services import free_port
    from dispatchmap.settings import PresenceSettings
    from store.db import open_pool

    port = free_port()
    # The Host header check answers the bound address and port only.
    settings = settings.model_copy(update={"host": "127.0.0.1", "port": port})
    pool = open_pool(role_url(db_url, "dashboard"), max_size=pool_size)
    app = create_app(settings, PresenceSettings(), pool)
    server = make_server("127.0.0.1", port, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
        pool.close()


def interval_call_status(base_url: str, interval_id: str) -> int:
    """The status of a Dash callback request fired by the ``n_intervals`` of
    ``interval_id``, with no cookie (nobody signed in, no wall token)."""
    import json
    import urllib.request

    body = {
        "output": "x",
        "outputs": [],
        "inputs": [{"id": interval_id, "property": "n_intervals", "value": 1}],
        "changedPropIds": [f"{interval_id}.n_intervals"],
    }
    request = urllib.request.Request(
        f"{base_url}/_dash-update-component",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    return http_status(request)


@contextmanager
def running_jt808_gateway(db_url: str, host: str, port: int, topics: Topics, limits=None):
    """The JT/T 808 gateway on its own thread and event loop (real broker and
    roster); yields (gateway, its TCP port)."""
    import asyncio

    from feeds.jt808_gateway import Gateway, Limits
    from feeds.jt808_runtime import Broker, Roster, serve

    loop = asyncio.new_event_loop()
    broker = Broker(host, port)
    gateway = Gateway(
        topics.prefix, broker.publish, Roster(db_url, miss_s=0).unit_of, b"test", limits or Limits()
    )
    bound: list[int] = []
    ready = threading.Event()

    def listening(p: int) -> None:
        bound.append(p)
        ready.set()

    task = loop.create_task(serve(gateway, "127.0.0.1", 0, listening))

    def run() -> None:
        asyncio.set_event_loop(loop)
        broker.start(loop)
        with suppress(asyncio.CancelledError):
            loop.run_until_complete(task)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    if not (ready.wait(10) and broker.connected.wait(10)):
        raise AssertionError("gateway did not start")
    try:
        yield gateway, bound[0]
    finally:
        loop.call_soon_threadsafe(task.cancel)
        thread.join(10)
        broker.stop()
        loop.close()


def http_exchange(url: str, data: dict | bytes | None = None, headers: dict | None = None):
    """(status, headers, body text) of one request (a dict ``data`` is posted
    as a form), redirects not followed, its socket closed whatever the answer."""
    import urllib.error
    import urllib.parse
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    if isinstance(data, dict):
        data = urllib.parse.urlencode(data).encode()
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, data, headers or {}), timeout=60) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.headers, exc.read().decode()


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coroutine)`` in a thread of its own: once a browser test
    has run, Playwright's sync API keeps an event loop running in the main
    thread for the rest of the session, and asyncio.run refuses to start there."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
