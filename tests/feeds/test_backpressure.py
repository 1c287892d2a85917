"""Memory stays bounded when the database is slower than the feed: the
received-message buffer fills, paho's network thread stops reading, and the
broker keeps the backlog; nothing is lost once the database catches up."""

from __future__ import annotations

import json
import queue
import threading
import time
from datetime import UTC, datetime, timedelta

import psycopg

from feeds import writer as writer_module
from feeds.pipeline import Message
from feeds.session import MessageBuffer
from tests.conftest import wait_equal
from tests.helpers import publish_all, publisher, running_ingest

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


def messages(n: int, start: int = 0) -> list[Message]:
    return [Message(f"t/{i}", b"", NOW, i) for i in range(start, start + n)]


def test_a_full_buffer_holds_the_network_thread_until_the_worker_takes():
    buffer, stopping = MessageBuffer(maxsize=10), threading.Event()
    assert buffer.put_many(messages(10), stopping)
    added = threading.Event()
    adder = threading.Thread(
        target=lambda: buffer.put_many(messages(5, 10), stopping) and added.set()
    )
    adder.start()
    assert not added.wait(0.3), "a full buffer must make the reader wait"
    batch = buffer.take(most=4, gather_s=0.0, timeout_s=1.0)
    assert [m.mid for m in batch] == [0, 1, 2, 3]
    time.sleep(0.2)
    assert not added.is_set() and buffer.qsize() == 10  # 4 of 5 went in: never over
    assert [m.mid for m in buffer.take(100, 0.0, 1.0)] == list(range(4, 14))
    assert added.wait(2), "room made: the rest of the read goes in"
    adder.join(2)
    assert [m.mid for m in buffer.take(100, 0.0, 1.0)] == [14]


def test_a_full_buffer_lets_go_on_stop_and_keeps_nothing_it_was_not_given():
    buffer, stopping = MessageBuffer(maxsize=2), threading.Event()
    buffer.put_many(messages(2), stopping)
    result: list[bool] = []
    adder = threading.Thread(target=lambda: result.append(buffer.put_many(messages(1), stopping)))
    adder.start()
    time.sleep(0.2)
    stopping.set()
    adder.join(3)
    assert result == [False]  # not added: unacknowledged, the broker redelivers it
    assert buffer.qsize() == 2


def test_take_gathers_a_batch_for_a_while_and_get_raises_empty():
    buffer, stopping = MessageBuffer(maxsize=100), threading.Event()
    later = threading.Timer(0.1, lambda: buffer.put_many(messages(3, 1), stopping))
    buffer.put_many(messages(1), stopping)
    later.start()
    batch = buffer.take(most=10, gather_s=0.5, timeout_s=1.0)
    assert [m.mid for m in batch] == [0, 1, 2, 3]
    try:
        buffer.get(timeout=0.05)
    except queue.Empty:
        pass
    else:
        raise AssertionError("an empty buffer must raise queue.Empty")


def test_a_slow_database_bounds_the_worker_and_loses_nothing(
    db_url, mqtt_hostport, topics, monkeypatch
):
    real_write = writer_module.Writer.write

    def slow_write(self, conn, batch):
        time.sleep(0.15)  # a database far slower than the feed
        return real_write(self, conn, batch)

    monkeypatch.setattr(writer_module.Writer, "write", slow_write)
    queue_max, total = 300, 4000
    sent = [
        (
            topics.gps(f"trk-c{i % 9 + 1:02d}"),
            json.dumps(
                {"lat": 60.17, "lon": 24.94, "ts": (NOW + timedelta(seconds=i)).isoformat()}
            ).encode(),
        )
        for i in range(total)
    ]
    host, port = mqtt_hostport
    depths: list[int] = []
    with running_ingest(
        db_url, host, port, topics, queue_max=queue_max, batch_max=200, batch_wait_ms=20
    ) as worker:
        sampling = threading.Event()

        def sample() -> None:
            while not sampling.is_set():
                depths.append(worker.queue.qsize())
                time.sleep(0.005)

        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            with publisher(host, port) as pub:
                publish_all(pub, sent)  # the broker took them all at once
            wait_equal(lambda: worker.stats.received, total, timeout=90)
        finally:
            sampling.set()
            sampler.join(2)
    assert max(depths) == queue_max, "full, never over (if never full, this proves nothing)"
    with psycopg.connect(db_url) as conn:
        stored = conn.execute("SELECT count(*) FROM positions").fetchone()
    assert stored == (total,)
