"""A JT/T 808 terminal for tests: a blocking TCP socket that sends frames
built by :mod:`feeds.decoders.jt808` and reads the platform's replies."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

from feeds.decoders import jt808 as j

GMT8 = timedelta(hours=8)


def location_body(
    lat: float, lon: float, at: datetime, *, alarm: int = 0, positioned: bool = True
) -> bytes:
    """A 0x0200 body at ``lat``/``lon`` (north/east), 30 km/h, heading 90, 15 m."""
    status = j.STATUS_POSITIONED if positioned else 0
    bcd = (at.astimezone(UTC) + GMT8).strftime("%y%m%d%H%M%S")
    return (
        alarm.to_bytes(4)
        + status.to_bytes(4)
        + round(lat * 1e6).to_bytes(4)
        + round(lon * 1e6).to_bytes(4)
        + (15).to_bytes(2)
        + (300).to_bytes(2)
        + (90).to_bytes(2)
        + bytes.fromhex(bcd)
        + bytes.fromhex("31010B")  # 11 satellites
    )


def batch_body(items: list[bytes]) -> bytes:
    """A 0x0704 body (type 1, blind area) of location bodies."""
    return len(items).to_bytes(2) + b"\x01" + b"".join(len(i).to_bytes(2) + i for i in items)


class Terminal:
    def __init__(self, port: int, phone: str = "013912345678", version: int | None = None) -> None:
        self.phone, self.version, self.serial = phone, version, 0
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self._buf = b""

    def close(self) -> None:
        self.sock.close()

    def frame(self, msg_id: int, body: bytes, package: tuple[int, int] | None = None) -> bytes:
        self.serial += 1
        return j.build_frame(
            msg_id, self.phone, self.serial, body, version=self.version, package=package
        )

    def send(self, raw: bytes) -> None:
        self.sock.sendall(raw)

    def reply(self) -> j.Frame:
        """The next frame from the platform (raises socket.timeout after 10 s)."""
        while True:
            start = self._buf.find(b"\x7e")
            end = self._buf.find(b"\x7e", start + 1) if start >= 0 else -1
            if end > start >= 0:
                raw, self._buf = self._buf[start : end + 1], self._buf[end + 1 :]
                return j.parse_frame(raw)
            data = self.sock.recv(4096)
            if not data:
                raise ConnectionError("closed by the gateway")
            self._buf += data

    def wait_closed(self) -> bytes:
        """Wait for the gateway to close the connection; the bytes it sent
        before (not read yet). Raises TimeoutError if it stays open 10 s."""
        got = self._buf
        try:
            while data := self.sock.recv(4096):
                got += data
        except ConnectionResetError:
            pass
        self._buf = b""
        return got

    def ask(self, msg_id: int, body: bytes = b"") -> j.Frame:
        self.send(self.frame(msg_id, body))
        return self.reply()

    def result(self, msg_id: int, body: bytes = b"") -> int:
        """Send one message; the result of the 0x8001 that answers it."""
        answer = self.ask(msg_id, body)
        assert answer.header.msg_id == j.PLATFORM_RESPONSE
        assert int.from_bytes(answer.body[0:2]) == self.serial
        assert int.from_bytes(answer.body[2:4]) == msg_id
        return answer.body[4]

    def login(self) -> None:
        """Register (0x0100, a 2013 body) and authenticate with the code given."""
        reg = self.ask(j.REGISTER, bytes(2 + 2 + 5 + 20 + 7) + b"\x02" + "沪A12345".encode("gbk"))
        assert reg.header.msg_id == j.REGISTER_RESPONSE and reg.body[2] == j.OK, reg
        code = reg.body[3:]
        body = bytes([len(code)]) + code + bytes(35) if self.version is not None else code
        assert self.result(j.AUTHENTICATE, body) == j.OK
