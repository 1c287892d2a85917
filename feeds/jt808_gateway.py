"""The JT/T 808 gateway: vehicle terminals over TCP in, raw frames on MQTT out.

A terminal registers (0x0100; answered 0x8100 with an authentication code if
the roster ties ``jt808-{phone}`` to a unit, refused otherwise), authenticates
(0x0102, on every new connection), then reports (0x0200, 0x0704) and beats
(0x0002). Every accepted message gets a 0x8001; a report's only after the
broker has acknowledged it (QoS 1 PUBACK), so a terminal that gets no answer
sends again and nothing is lost (the ingest stores a fix once).

Frames go to ``{prefix}/jt808/{phone}`` as received, so the ingest decodes
them (:mod:`feeds.decoders.jt808`) and its quarantine keeps the raw bytes of a
bad one. A 0x0704 batch is published as one 0x0200 frame per item (header and
item bytes of the batch, check code recomputed): the pipeline keeps a message
whole, so one bad fix of a batch must not take its good ones to quarantine.
Sub-packaged messages are reassembled and published as one frame. The
emergency alarm bit is published as a status report on ``{prefix}/status/
jt808-{phone}``, the topic a radio's emergency key uses, when it changes.

Bad bytes never stop the gateway: a frame with a wrong check code, a broken
escape or a wrong length is logged (and, from an authenticated terminal,
quarantined through the ingest); a frame longer than the standard allows, a
connection that does not authenticate in time, is silent or trickles bytes,
or one beyond ``max_connections`` is closed with a log line.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

from feeds.decoders import DecodeError
from feeds.decoders import jt808 as j

log = logging.getLogger("dispatchmap.jt808")
# Escaped worst case of a 2019 sub-packaged frame: every byte doubled, plus flags.
MAX_FRAME_BYTES = 2 * (17 + 4 + j.MAX_BODY + 1) + 2
MAX_PACKAGES = 64  # a reassembled message holds at most 64 KiB
MAX_BAD_UNAUTHENTICATED = 3

Publish = Callable[[str, bytes], Awaitable[bool]]
"""(topic, payload) -> True once the broker has it (QoS 1 PUBACK)."""
UnitOf = Callable[[str], Awaitable[str | None]]
"""device id -> the unit the roster ties it to, None if none; raises
LookupError when the roster cannot be read."""


@dataclass(frozen=True, slots=True)
class Limits:
    """``idle_s``: longest silence (heartbeats are 60 s by default); ``auth_s``:
    time from connecting to authenticated; ``frame_s``: longest time a frame
    may take to arrive; ``write_s``: longest wait for a terminal to take a reply."""

    idle_s: float = 180.0
    auth_s: float = 30.0
    frame_s: float = 30.0
    write_s: float = 10.0
    max_connections: int = 20000


@dataclass(slots=True)
class Session:
    """One TCP connection; ``device`` is set once the terminal authenticated."""

    peer: str
    device: str | None = None
    phone: str = ""
    serial: int = 0
    bad: int = 0
    closing: str | None = None  # set: close after the replies are written
    packages: dict[tuple[int, int], dict[int, j.Frame]] = field(default_factory=dict)

    def next_serial(self) -> int:
        self.serial = (self.serial + 1) & 0xFFFF
        return self.serial


class Closed(Exception):
    """Why a connection is closed (logged by the caller)."""


class Gateway:
    """Serves terminals; ``publish`` and ``unit_of`` are the broker and roster."""

    def __init__(
        self, prefix: str, publish: Publish, unit_of: UnitOf, secret: bytes, limits: Limits
    ) -> None:
        self.prefix = prefix
        self.publish = publish
        self.unit_of = unit_of
        self.secret = secret
        self.limits = limits
        self.active = 0
        self.emergency: dict[str, bool] = {}
        self.refused = 0
        self.tasks: set[asyncio.Task[None]] = set()

    def auth_code(self, device: str) -> str:
        """The code a terminal must present: an HMAC of its device id, so any
        gateway with the secret checks it without storing it."""
        return hmac.new(self.secret, device.encode(), hashlib.sha256).hexdigest()[:16]

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One connection, from accept to close; never raises."""
        peer = str(writer.get_extra_info("peername"))
        if self.active >= self.limits.max_connections:
            log.warning("%s refused: %d connections already", peer, self.active)
            self.refused += 1
            writer.close()
            return
        self.active += 1
        session = Session(peer)
        task = asyncio.current_task()
        if task is not None:
            self.tasks.add(task)
        try:
            await self._read_loop(reader, writer, session)
        except Closed as why:
            log.info("%s (%s) closed: %s", peer, session.device or "unauthenticated", why)
        except (ConnectionError, OSError) as exc:
            log.info("%s (%s) lost: %s", peer, session.device or "unauthenticated", exc)
        except Exception:  # a gateway bug must not take the other connections down
            log.exception("%s: unexpected error, connection closed", peer)
        except asyncio.CancelledError:
            writer.transport.abort()  # shutting down: do not wait for a slow reader
            raise
        finally:
            self.active -= 1
            if task is not None:
                self.tasks.discard(task)
            writer.close()

    async def shutdown(self) -> None:
        """Close every connection (their terminals connect again elsewhere)."""
        tasks = list(self.tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.sleep(0)  # the transports' connection_lost callbacks run now

    async def _read_loop(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, s: Session
    ) -> None:
        buf = bytearray()
        opened = last_frame = partial_since = time.monotonic()
        while True:
            deadline, why = self._deadline(s, opened, last_frame, partial_since if buf else None)
            try:
                # asyncio.timeout, not wait_for: no extra task for every read
                async with asyncio.timeout(wait(deadline)):
                    data = await reader.read(4096)
            except TimeoutError:
                data = b""
            if not data:
                raise Closed(why if time.monotonic() >= deadline else "closed by the terminal")
            if not buf:
                partial_since = time.monotonic()
            buf += data
            frames = take_frames(buf)
            if frames:
                last_frame = partial_since = time.monotonic()
            for raw in frames:
                for reply in await self._frame(s, raw):
                    writer.write(reply)
                if s.closing:
                    break  # what follows a refusal or a logout is not read
            try:
                async with asyncio.timeout(self.limits.write_s):
                    await writer.drain()
            except TimeoutError:
                raise Closed(f"replies not taken for {self.limits.write_s:g} s") from None
            if s.closing:
                raise Closed(s.closing)

    def _deadline(
        self, s: Session, opened: float, last_frame: float, partial_since: float | None
    ) -> tuple[float, str]:
        """When (monotonic) the connection is closed if nothing changes, and
        why: not authenticated in time, no whole frame for ``idle_s``, or a
        frame begun (``partial_since``) and not finished in ``frame_s``."""
        lim = self.limits
        if s.device is None:
            deadline, why = opened + lim.auth_s, f"not authenticated within {lim.auth_s:g} s"
        else:
            deadline, why = last_frame + lim.idle_s, f"no whole frame for {lim.idle_s:g} s"
        if partial_since is not None and partial_since + lim.frame_s < deadline:
            return partial_since + lim.frame_s, f"frame incomplete after {lim.frame_s:g} s"
        return deadline, why

    async def _frame(self, s: Session, raw: bytes) -> list[bytes]:
        """Replies to one frame; raises :class:`Closed` to end the connection."""
        try:
            frame = j.parse_frame(raw)
        except DecodeError as exc:
            return await self._bad(s, raw, exc)
        h = frame.header
        device = j.device_id(h.phone)
        try:
            if h.msg_id == j.REGISTER:
                return await self._register(s, frame, device)
            if h.msg_id == j.AUTHENTICATE:
                return await self._authenticate(s, frame, device)
        except LookupError as exc:  # no answer: the terminal tries again later
            log.warning("%s: %s not checked: %s", s.peer, device, exc)
            raise Closed(f"{device} not checked: {exc}") from None
        if s.device != device:
            log.warning(
                "%s: 0x%04X from %s before authentication, refused", s.peer, h.msg_id, device
            )
            raise Closed(f"{device} not authenticated")
        if h.encryption:  # RSA (bit 10) needs keys we do not hold: kept for a person to see
            await self.publish(self.topic(s.phone), raw)
            return [j.general_response(h, s.next_serial(), j.NOT_SUPPORTED)]
        if h.total is not None:
            whole = reassemble(s, frame)
            if whole is None:
                return [j.general_response(h, s.next_serial(), j.OK)]
            frame, raw = whole, b""
        result = await self._message(s, frame, raw)
        if result is None or h.msg_id == j.GENERAL_RESPONSE:
            return []
        return [j.general_response(h, s.next_serial(), result)]  # the last part's, if packaged

    async def _bad(self, s: Session, raw: bytes, exc: DecodeError) -> list[bytes]:
        log.warning("%s (%s): bad frame, %s: %s", s.peer, s.device, exc, raw[:64].hex())
        if s.device is None:
            s.bad += 1
            if s.bad >= MAX_BAD_UNAUTHENTICATED:
                raise Closed(f"{s.bad} bad frames before authentication")
            return []
        await self.publish(self.topic(s.phone), raw)  # the ingest quarantines it with its reason
        return []

    async def _register(self, s: Session, frame: j.Frame, device: str) -> list[bytes]:
        h = frame.header
        if await self.unit_of(device) is None:
            log.warning("%s: registration of %s refused: not on the roster", s.peer, device)
            s.closing = f"{device} is not on the roster"
            return [j.registration_response(h, s.next_serial(), j.NO_SUCH_TERMINAL)]
        log.info("%s: %s registered", s.peer, device)
        return [j.registration_response(h, s.next_serial(), j.OK, self.auth_code(device))]

    async def _authenticate(self, s: Session, frame: j.Frame, device: str) -> list[bytes]:
        h = frame.header
        code = j.auth_code(frame.body, h.version)
        good = hmac.compare_digest(code, self.auth_code(device))
        if not good or await self.unit_of(device) is None:
            why = "wrong code" if not good else "not on the roster"
            log.warning("%s: authentication of %s refused (%s)", s.peer, device, why)
            s.closing = f"authentication of {device} refused: {why}"
            return [j.general_response(h, s.next_serial(), j.FAILED)]
        s.device, s.phone = device, device.removeprefix("jt808-")
        log.info("%s: %s authenticated", s.peer, device)
        return [j.general_response(h, s.next_serial(), j.OK)]

    async def _message(self, s: Session, frame: j.Frame, raw: bytes) -> int | None:
        """The 0x8001 result for one whole message, None for no answer. A report
        that cannot be read is still published (the ingest quarantines it with
        its reason) and answered ``wrong message``, so it is not sent again."""
        h = frame.header
        if h.msg_id in (j.HEARTBEAT, j.GENERAL_RESPONSE):
            return j.OK
        if h.msg_id == j.LOGOUT:
            s.closing = "terminal logged out"
            return j.OK
        if h.msg_id == j.LOCATION:
            frames = [raw or _rebuilt(h, frame.body)]
            readable = await self._emergency(s, frame.body)
        elif h.msg_id == j.BATCH:
            frames, readable = _batch_frames(frame, raw)
        else:
            return j.NOT_SUPPORTED
        acked = await asyncio.gather(*(self.publish(self.topic(s.phone), f) for f in frames))
        if not all(acked):
            log.warning(
                "%s: broker did not take 0x%04X; no answer, the terminal sends again",
                s.device,
                h.msg_id,
            )
            return None
        return j.OK if readable else j.WRONG_MESSAGE

    async def _emergency(self, s: Session, body: bytes) -> bool:
        """Publish the emergency alarm bit when it changes (like a radio's key);
        False if the report cannot be read. A batch's alarm bits are history
        (stored while out of coverage) and are not raised."""
        try:
            loc = j.location(body)
        except DecodeError:
            return False
        assert s.device is not None
        if loc.emergency == self.emergency.get(s.device, False):
            return True
        report = {"ts": loc.fix_at.isoformat(), "emergency": loc.emergency}
        if await self.publish(f"{self.prefix}/status/{s.device}", json.dumps(report).encode()):
            self.emergency[s.device] = loc.emergency
        return True

    def topic(self, phone: str) -> str:
        return f"{self.prefix}/jt808/{phone}"


def wait(deadline: float) -> float:
    """Seconds from now (monotonic) to ``deadline``, at least 0."""
    return max(0.0, deadline - time.monotonic())


def take_frames(buf: bytearray) -> list[bytes]:
    """Cut the whole frames (``7E ... 7E``) off the front of ``buf``; bytes
    before a frame's first flag are dropped. Raises :class:`Closed` when the
    unfinished rest is longer than any frame the standard allows."""
    frames = []
    while True:
        start = buf.find(j.FLAG)
        if start < 0:
            buf.clear()
            break
        end = buf.find(j.FLAG, start + 1)
        if end < 0:
            del buf[:start]
            break
        if end == start + 1:  # "7E7E": the first ended something we lost
            del buf[: start + 1]
            continue
        frames.append(bytes(buf[start : end + 1]))
        del buf[: end + 1]
    if len(buf) > MAX_FRAME_BYTES:
        raise Closed(f"frame longer than {MAX_FRAME_BYTES} bytes")
    return frames


def reassemble(s: Session, frame: j.Frame) -> j.Frame | None:
    """Keep one sub-package; the whole message once its last part is in."""
    h = frame.header
    assert h.total is not None and h.index is not None
    if h.total > MAX_PACKAGES:
        raise Closed(f"message in {h.total} sub-packages (at most {MAX_PACKAGES})")
    if sum(map(len, s.packages.values())) >= MAX_PACKAGES:
        raise Closed(f"more than {MAX_PACKAGES} sub-packages waiting for their message")
    parts = s.packages.setdefault((h.msg_id, h.total), {})
    parts[h.index] = frame
    if len(parts) < h.total:
        return None
    del s.packages[(h.msg_id, h.total)]
    body = b"".join(parts[i].body for i in range(1, h.total + 1))
    first = parts[1].header
    return j.Frame(replace(first, body_len=len(body), total=None, index=None), body)


def _rebuilt(h: j.Header, body: bytes) -> bytes:
    """A frame for a reassembled message; one too long to frame is sent as
    an empty-bodied frame the ingest quarantines (its parts were answered)."""
    if len(body) > j.MAX_BODY:
        body = b""
    return j.build_frame(h.msg_id, h.phone, h.serial, body, version=h.version)


def _batch_frames(frame: j.Frame, raw: bytes) -> tuple[list[bytes], bool]:
    """One 0x0200 frame per item of a 0x0704 batch, and True; the batch as
    received and False if its structure is broken (the ingest then
    quarantines it whole)."""
    h = frame.header
    try:
        items = j.batch_items(frame.body)
    except DecodeError:
        return [raw or _rebuilt(h, frame.body)], False
    frames = [j.build_frame(j.LOCATION, h.phone, h.serial, i, version=h.version) for i in items]
    return frames, True
