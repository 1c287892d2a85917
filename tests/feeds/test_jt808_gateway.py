"""The JT/T 808 gateway over real TCP against bad bytes and bad clients: each
gets a clear outcome (refused, logged, closed after a timeout) and everyone
else keeps being served. The broker is replaced by a list of what would be
published (the session test runs the real one)."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.decoders import jt808 as j
from feeds.jt808_gateway import MAX_FRAME_BYTES, Closed, Gateway, Limits, Session, take_frames
from feeds.jt808_runtime import serve
from tests.helpers import run_async
from tests.jt808_terminal import Terminal, batch_body, location_body

PHONE = "013912345678"
QUICK = Limits(idle_s=0.5, auth_s=0.5, frame_s=0.5, write_s=1.0, max_connections=50)


@pytest.fixture(autouse=True)
def _closing_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "dispatchmap.jt808")  # why a connection closed


@contextmanager
def gateway(limits: Limits = QUICK) -> Iterator[tuple[Gateway, int, list[tuple[str, bytes]]]]:
    published: list[tuple[str, bytes]] = []

    async def publish(topic: str, payload: bytes) -> bool:
        published.append((topic, payload))
        return True

    async def unit_of(device: str) -> str | None:
        return "U003" if device == f"jt808-{PHONE}" else None

    gw = Gateway("dm", publish, unit_of, b"secret", limits)
    loop = asyncio.new_event_loop()
    bound: list[int] = []
    ready = threading.Event()
    task = loop.create_task(serve(gw, "127.0.0.1", 0, lambda p: (bound.append(p), ready.set())))

    def run() -> None:
        with suppress(asyncio.CancelledError):
            loop.run_until_complete(task)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield gw, bound[0], published
    finally:
        loop.call_soon_threadsafe(task.cancel)
        thread.join(10)
        loop.close()


def trickle(t: Terminal, chunks: list[bytes], every_s: float) -> bool:
    """Send ``chunks`` one every ``every_s`` s; True once the gateway closed
    the connection (a byte in flight at the close gets a reset)."""
    t.sock.settimeout(every_s)
    for chunk in chunks:
        try:
            if t.sock.recv(16) == b"":
                return True
        except TimeoutError:
            pass
        except ConnectionResetError:
            return True
        try:
            t.send(chunk)
        except (ConnectionResetError, BrokenPipeError):
            return True
    return False


def report(t: Terminal, alarm: int = 0) -> int:
    return t.result(j.LOCATION, location_body(60.17, 24.94, datetime.now(UTC), alarm=alarm))


def test_wrong_check_code_before_authentication_is_logged_then_closed(caplog):
    with gateway() as (_gw, port, published):
        t = Terminal(port, PHONE)
        frame = t.frame(j.HEARTBEAT, b"")
        for _ in range(3):
            t.send(frame[:-2] + bytes([frame[-2] ^ 0xFF]) + b"\x7e")
        assert t.wait_closed() == b""
        t.close()
    assert published == []
    assert "bad_checksum" in caplog.text and "3 bad frames before authentication" in caplog.text


def test_bad_frames_of_an_authenticated_terminal_go_to_quarantine_and_it_is_still_served():
    with gateway() as (_gw, port, published):
        t = Terminal(port, PHONE)
        t.login()
        good = t.frame(j.LOCATION, location_body(60.17, 24.94, datetime.now(UTC)))
        broken_escape = good[:20] + b"\x7d\x05" + good[22:]
        wrong_length = t.frame(j.HEARTBEAT, b"")
        wrong_length = wrong_length[:4] + b"\x09" + wrong_length[5:]  # declares 9 body bytes
        t.send(b"noise before a flag" + broken_escape + wrong_length)
        assert report(t) == j.OK
        assert t.result(j.LOCATION, b"\x00" * 20) == j.WRONG_MESSAGE  # short body
        assert t.result(j.BATCH, b"\x00\x02\x01\x00\x1c") == j.WRONG_MESSAGE  # cut item
        encrypted = bytearray(t.frame(j.LOCATION, b"\x00" * 28))
        encrypted[3] |= 0x04  # encryption bit 10: RSA
        encrypted[-2] ^= 0x04  # the check code follows
        t.send(bytes(encrypted))
        assert t.reply().body[4] == j.NOT_SUPPORTED
        t.close()
    assert [p for _, p in published][:2] == [broken_escape, wrong_length]
    assert len(published) == 6  # the report, and the three unread ones for quarantine
    assert published[-1][1] == bytes(encrypted)
    assert {topic for topic, _ in published} == {f"dm/jt808/{PHONE}"}


def test_report_before_authentication_and_a_wrong_code_are_refused(caplog):
    with gateway() as (_gw, port, published):
        t = Terminal(port, PHONE)
        t.send(t.frame(j.LOCATION, location_body(60.17, 24.94, datetime.now(UTC))))
        assert t.wait_closed() == b""
        t.close()
        t = Terminal(port, PHONE)
        assert t.result(j.AUTHENTICATE, b"guessed") == j.FAILED
        assert t.wait_closed() == b""
        t.close()
    assert published == []
    assert "before authentication, refused" in caplog.text and "wrong code" in caplog.text


@pytest.mark.parametrize(
    ("what", "send"),
    [
        ("silent", b""),
        ("truncated frame, then silence", bytes.fromhex("7E0200001C01391234")),
        ("oversized frame", b"\x7e" + b"\x01" * (MAX_FRAME_BYTES + 10)),
    ],
)
def test_silent_truncated_and_oversized_connections_are_closed(what, send, caplog):
    with gateway() as (_gw, port, _):
        t = Terminal(port, PHONE)
        started = time.monotonic()
        if send:
            t.send(send)
        assert t.wait_closed() == b""
        assert time.monotonic() - started < 5
        t.close()
    assert any(w in caplog.text for w in ("frame incomplete", "frame longer", "not authenticated"))


def test_an_authenticated_terminal_sending_only_noise_is_closed(caplog):
    with gateway() as (_gw, port, _):
        t = Terminal(port, PHONE)
        t.login()
        # noise without a flag every 0.1 s: bytes, but never a frame
        assert trickle(t, [b"\x01\x02"] * 100, 0.1)
        t.close()
    assert "no whole frame for 0.5 s" in caplog.text


def test_a_trickling_client_is_closed_once_its_frame_is_overdue(caplog):
    with gateway(Limits(idle_s=30, auth_s=30, frame_s=0.5)) as (_gw, port, _):
        t = Terminal(port, PHONE)
        t.login()
        frame = t.frame(j.HEARTBEAT, b"")
        # a byte every 0.2 s, never the end flag
        assert trickle(t, [bytes([b]) for b in frame[:-1] + b"\x01" * 40], 0.2)
        t.close()
    assert "frame incomplete after" in caplog.text


def test_many_connections_idle_and_garbage_while_a_terminal_reports(caplog):
    limits = Limits(idle_s=30, auth_s=30, frame_s=30, write_s=5, max_connections=200)
    with gateway(limits) as (gw, port, published):
        idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(199)]
        try:
            t = Terminal(port, PHONE)  # the 200th
            t.login()
            beyond = Terminal(port, PHONE)  # the 201st is refused at once
            assert beyond.wait_closed() == b""
            beyond.close()
            for sock in idle[:50]:
                sock.sendall(b"\x7e\x7d\x7e" * 3 + b"\x7e\x00\x7e")  # garbage frames
            assert all(report(t) == j.OK for _ in range(20))
            assert t.result(0x0900, b"\x01") == j.NOT_SUPPORTED
            assert t.result(j.HEARTBEAT) == j.OK
            t.close()
        finally:
            for sock in idle:
                sock.close()
    assert len(published) == 20 and "connections already" in caplog.text and gw.refused == 1


def test_emergency_bit_is_published_as_a_status_report_when_it_changes():
    with gateway() as (_gw, port, published):
        t = Terminal(port, PHONE)
        t.login()
        for alarm in (0, 1, 1, 0, 0):
            assert report(t, alarm) == j.OK
        t.close()
    statuses = [p for topic, p in published if topic == f"dm/status/jt808-{PHONE}"]
    assert [b'"emergency": true' in s for s in statuses] == [True, False]


def test_batch_is_published_item_by_item_and_sub_packages_reassembled():
    now = datetime.now(UTC)
    items = [location_body(60.17, 24.94 + i * 1e-4, now) for i in range(3)]
    with gateway() as (_gw, port, published):
        t = Terminal(port, PHONE, version=1)
        t.login()
        assert t.result(j.BATCH, batch_body(items)) == j.OK
        body = batch_body(items)
        for index, part in enumerate((body[:40], body[40:80], body[80:]), start=1):
            t.send(t.frame(j.BATCH, part, package=(3, index)))
            assert t.reply().body[4] == j.OK
        t.close()
    frames = [j.parse_frame(p) for _, p in published]
    assert [f.header.msg_id for f in frames] == [j.LOCATION] * 6
    assert [f.body for f in frames] == items * 2
    assert {f.header.version for f in frames} == {1}


_frames = st.builds(
    lambda msg_id, body, package, version: j.build_frame(
        msg_id, PHONE, 1, body, version=version, package=package
    ),
    st.sampled_from([j.HEARTBEAT, j.LOCATION, j.BATCH, j.REGISTER, j.AUTHENTICATE, 0x0003, 0x0900]),
    st.binary(max_size=120),
    st.none() | st.tuples(st.integers(1, 3), st.integers(1, 3)).filter(lambda p: p[1] <= p[0]),
    st.none() | st.just(1),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=80) | _frames, max_size=12))
def test_stream_cutting_and_frame_handling_never_fail_on_random_bytes(chunks):
    """Whatever arrives, the gateway only answers, publishes, or closes."""
    published: list[tuple[str, bytes]] = []

    async def publish(topic: str, payload: bytes) -> bool:
        published.append((topic, payload))
        return True

    async def unit_of(device: str) -> str | None:
        return "U003"

    async def feed() -> None:
        gw = Gateway("dm", publish, unit_of, b"secret", QUICK)
        session = Session("fuzz", device=f"jt808-{PHONE}", phone=PHONE)
        buf = bytearray()
        for chunk in chunks:
            buf += chunk
            try:
                frames = take_frames(buf)
            except Closed:
                return
            for raw in frames:
                assert raw[0] == raw[-1] == j.FLAG and len(raw) > 2
                try:
                    await gw._frame(session, raw)
                except Closed:
                    return

    run_async(feed())
    assert all(topic.startswith("dm/") for topic, _ in published)


def test_sub_packages_that_never_complete_are_bounded(caplog):
    with gateway() as (_gw, port, published):
        t = Terminal(port, PHONE)
        t.login()
        # 100 messages, each missing its part 2, in one write (sent before the close)
        t.send(b"".join(t.frame(m, b"part", package=(2, 1)) for m in range(0x0A00, 0x0A64)))
        try:
            t.wait_closed()
        finally:
            t.close()
    assert published == [] and "sub-packages waiting" in caplog.text


def test_terminals_are_not_refused_while_the_roster_cannot_be_read(caplog):
    async def no_roster(device: str) -> str | None:
        raise LookupError("the roster could not be read")

    with gateway() as (gw, port, _):
        gw.unit_of = no_roster
        t = Terminal(port, PHONE)
        t.send(t.frame(j.REGISTER, bytes(37)))
        assert t.wait_closed() == b""  # no answer: not "no such terminal"
        t.close()
    assert "not checked: the roster could not be read" in caplog.text


def test_a_broker_that_is_away_means_no_answer():
    """Not acknowledged by the broker -> publish is False (the gateway then
    answers nothing and the terminal sends the report again)."""
    from dispatchmap.services import free_port
    from feeds.jt808_runtime import Broker

    async def publish_once() -> bool:
        broker = Broker("127.0.0.1", free_port(), timeout_s=0.3)
        broker.start(asyncio.get_running_loop())
        try:
            return await broker.publish("dm/jt808/013912345678", b"\x7e\x7e")
        finally:
            broker.stop()

    assert run_async(publish_once()) is False
