"""JT/T 808 (2013 and 2019 editions) frames from vehicle terminals on ``dm/jt808/{phone}``.

The payload is one whole frame as the terminal sent it over TCP (published by
:mod:`feeds.jt808_gateway`): ``0x7E`` + escaped(header + body + check code) +
``0x7E``. Inside, ``0x7E`` travels as ``7D 02`` and ``0x7D`` as ``7D 01``; the
check code is the XOR of every header and body byte.

Header: message id WORD, body attributes WORD (body length in the low 10 bits,
encryption bits 10-12, sub-package bit 13, bit 14 = 2019 edition), [2019:
protocol version BYTE], phone BCD[6] (2019: BCD[10]), serial WORD,
[sub-package: total WORD, index WORD]. Words are big-endian.

Decoded into fixes: 0x0200 location reports and 0x0704 batches of them.
Units: latitude/longitude DWORDs in 1e-6 degrees (status bit 2 south, bit 3
west), altitude WORD in metres, speed WORD in 0.1 km/h, direction WORD in
degrees, time BCD ``YYMMDDhhmmss`` in GMT+8 (converted to UTC). A report whose
status bit 1 (positioned) is clear is a ``no_fix`` outcome, never a position.
Alarm bit 0 is the emergency alarm (read by the gateway, see :func:`location`).

Replies of the platform (0x8001, 0x8100) are built as bytes by
:func:`general_response` and :func:`registration_response`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from feeds.decoders import (
    BAD_CHECKSUM,
    NO_FIX,
    UNDECODABLE,
    UNSUPPORTED,
    DecodeError,
    PositionReport,
)

FLAG, ESC = 0x7E, 0x7D
GENERAL_RESPONSE, HEARTBEAT, LOGOUT = 0x0001, 0x0002, 0x0003
REGISTER, AUTHENTICATE = 0x0100, 0x0102
LOCATION, BATCH = 0x0200, 0x0704
PLATFORM_RESPONSE, REGISTER_RESPONSE = 0x8001, 0x8100
# 0x8001 results (JT/T 808 table "general response").
OK, FAILED, WRONG_MESSAGE, NOT_SUPPORTED, ALARM_CONFIRMED = 0, 1, 2, 3, 4
# 0x8100 results: 0 ok, 1 vehicle registered, 2 no such vehicle, 3 terminal
# registered, 4 no such terminal.
NO_SUCH_TERMINAL = 4
MAX_BODY = 0x3FF  # the length field has 10 bits
STATUS_POSITIONED, STATUS_SOUTH, STATUS_WEST = 1 << 1, 1 << 2, 1 << 3
ALARM_EMERGENCY = 1 << 0
ITEM_MILEAGE, ITEM_SIGNAL, ITEM_SATELLITES = 0x01, 0x30, 0x31
_GMT8 = timedelta(hours=8)
_LOCATION_LEN = 28  # the fixed part of a 0x0200 body


@dataclass(frozen=True, slots=True)
class Header:
    """A frame's header. ``version`` is None for 2011/2013 frames; ``phone``
    is the BCD digits as sent (12, or 20 for 2019); ``total``/``index`` are
    set only for a sub-packaged message (``index`` counts from 1)."""

    msg_id: int
    body_len: int
    encryption: int
    version: int | None
    phone: str
    serial: int
    total: int | None = None
    index: int | None = None

    @property
    def size(self) -> int:
        size = 12 if self.version is None else 17
        return size + 4 if self.total is not None else size


@dataclass(frozen=True, slots=True)
class Frame:
    header: Header
    body: bytes


@dataclass(frozen=True, slots=True)
class Location:
    """A 0x0200 body as read. ``positioned`` False: the lat/lon are not a fix.
    ``mileage_km`` (item 0x01, 0.1 km), ``signal`` (0x30, the terminal's
    wireless signal strength) and ``sats`` (0x31) are None when absent."""

    alarm: int
    status: int
    lat: float
    lon: float
    alt_m: float
    speed_kmh: float
    heading_deg: float
    fix_at: datetime
    mileage_km: float | None = None
    signal: int | None = None
    sats: int | None = None

    @property
    def positioned(self) -> bool:
        return bool(self.status & STATUS_POSITIONED)

    @property
    def emergency(self) -> bool:
        return bool(self.alarm & ALARM_EMERGENCY)


def unescape(data: bytes) -> bytes:
    """Undo the escaping of the bytes between the two flags. ``7D`` must be
    followed by ``01`` or ``02``; a bare ``7E`` inside is a broken frame."""
    if FLAG in data:
        raise DecodeError(UNDECODABLE, "0x7E inside a frame")
    if ESC not in data:
        return data
    parts = data.split(bytes([ESC]))
    out = bytearray(parts[0])
    for part in parts[1:]:
        if not part or part[0] not in (1, 2):
            raise DecodeError(UNDECODABLE, "broken escape: 0x7D not followed by 01 or 02")
        out.append(ESC if part[0] == 1 else FLAG)
        out += part[1:]
    return bytes(out)


def escape(data: bytes) -> bytes:
    """The escaped form of header + body + check code (no flags)."""
    return data.replace(b"\x7d", b"\x7d\x01").replace(b"\x7e", b"\x7d\x02")


def check_code(data: bytes) -> int:
    """XOR of every byte (header and body)."""
    code = 0
    for byte in data:
        code ^= byte
    return code


def bcd(data: bytes) -> str:
    """BCD bytes -> their decimal digits; a nibble above 9 is undecodable."""
    digits = data.hex()
    if not digits.isdigit():
        raise DecodeError(UNDECODABLE, f"bad BCD {digits}")
    return digits


def device_id(phone: str) -> str:
    """The device id of a terminal: ``jt808-`` + its phone number, 12 digits
    when the 2019 form's leading 8 digits are zeros, so a terminal keeps its
    id whichever edition it speaks."""
    if len(phone) == 20 and phone.startswith("00000000"):
        phone = phone[8:]
    return f"jt808-{phone}"


def parse_header(data: bytes) -> Header:
    """The header at the start of unescaped ``data``."""
    if len(data) < 12:
        raise DecodeError(UNDECODABLE, f"frame of {len(data)} bytes is shorter than a header")
    msg_id = int.from_bytes(data[0:2])
    attrs = int.from_bytes(data[2:4])
    version = None
    at = 4
    if attrs & (1 << 14):
        if len(data) < 17:
            raise DecodeError(UNDECODABLE, "2019 frame shorter than its header")
        version, phone, at = data[4], bcd(data[5:15]), 15
    else:
        phone, at = bcd(data[4:10]), 10
    serial = int.from_bytes(data[at : at + 2])
    total = index = None
    if attrs & (1 << 13):
        if len(data) < at + 6:
            raise DecodeError(UNDECODABLE, "sub-package fields cut off")
        total, index = int.from_bytes(data[at + 2 : at + 4]), int.from_bytes(data[at + 4 : at + 6])
        if total == 0 or not 1 <= index <= total:
            raise DecodeError(UNDECODABLE, f"sub-package {index} of {total}")
    return Header(msg_id, attrs & MAX_BODY, (attrs >> 10) & 7, version, phone, serial, total, index)


def parse_frame(frame: bytes) -> Frame:
    """One whole frame (with its two flags) -> header and body.

    Raises ``DecodeError``: ``undecodable`` for missing flags, a broken escape,
    a frame shorter than its header, or a declared body length that is not
    the body's; ``bad_checksum`` for a wrong check code.
    """
    if len(frame) < 2 or frame[0] != FLAG or frame[-1] != FLAG:
        raise DecodeError(UNDECODABLE, "not a JT/T 808 frame (0x7E ... 0x7E)")
    data = unescape(frame[1:-1])
    if len(data) < 13:
        raise DecodeError(UNDECODABLE, f"frame of {len(data)} bytes is truncated")
    content, code = data[:-1], data[-1]
    computed = check_code(content)
    if computed != code:
        raise DecodeError(BAD_CHECKSUM, f"check code {code:02X}, computed {computed:02X}")
    header = parse_header(content)
    body = content[header.size :]
    if len(body) != header.body_len:
        raise DecodeError(
            UNDECODABLE, f"declared body length {header.body_len}, frame holds {len(body)}"
        )
    return Frame(header, body)


def location(body: bytes) -> Location:
    """Read a 0x0200 body (also one item of a 0x0704 batch). Additional items
    other than 0x01/0x30/0x31 are skipped; a cut-off item is undecodable."""
    if len(body) < _LOCATION_LEN:
        raise DecodeError(UNDECODABLE, f"location body of {len(body)} bytes, need 28")
    status = int.from_bytes(body[4:8])
    lat = int.from_bytes(body[8:12]) / 1e6
    lon = int.from_bytes(body[12:16]) / 1e6
    items = _items(body[_LOCATION_LEN:])
    mileage = items.get(ITEM_MILEAGE)
    signal, sats = items.get(ITEM_SIGNAL), items.get(ITEM_SATELLITES)
    return Location(
        alarm=int.from_bytes(body[0:4]),
        status=status,
        lat=-lat if status & STATUS_SOUTH else lat,
        lon=-lon if status & STATUS_WEST else lon,
        # A WORD in the standard; read signed, as terminals below sea level
        # send two's complement (no road is 32 km high).
        alt_m=float(int.from_bytes(body[16:18], signed=True)),
        speed_kmh=int.from_bytes(body[18:20]) / 10.0,
        heading_deg=float(int.from_bytes(body[20:22])),
        fix_at=bcd_time(body[22:28]),
        mileage_km=int.from_bytes(mileage) / 10.0 if mileage and len(mileage) == 4 else None,
        signal=signal[0] if signal and len(signal) == 1 else None,
        sats=sats[0] if sats and len(sats) == 1 else None,
    )


def _items(data: bytes) -> dict[int, bytes]:
    items: dict[int, bytes] = {}
    at = 0
    while at < len(data):
        if at + 2 > len(data) or at + 2 + data[at + 1] > len(data):
            raise DecodeError(UNDECODABLE, f"additional item 0x{data[at]:02X} cut off")
        items.setdefault(data[at], data[at + 2 : at + 2 + data[at + 1]])
        at += 2 + data[at + 1]
    return items


def bcd_time(data: bytes) -> datetime:
    """BCD ``YYMMDDhhmmss`` in GMT+8 -> aware UTC (years 2000-2099)."""
    digits = bcd(data)
    try:
        local = datetime(
            2000 + int(digits[0:2]),
            int(digits[2:4]),
            int(digits[4:6]),
            int(digits[6:8]),
            int(digits[8:10]),
            int(digits[10:12]),
            tzinfo=UTC,
        )
    except ValueError as exc:
        raise DecodeError(UNDECODABLE, f"bad time {digits}") from exc
    return local - _GMT8


def batch_items(body: bytes) -> list[bytes]:
    """The location bodies of a 0x0704 batch (count WORD, type BYTE, then per
    item a length WORD and a 0x0200 body). A count that disagrees with the
    items, or an item running past the end, is undecodable."""
    if len(body) < 3:
        raise DecodeError(UNDECODABLE, "batch header cut off")
    count, at = int.from_bytes(body[0:2]), 3
    items: list[bytes] = []
    while at < len(body):
        size = int.from_bytes(body[at : at + 2]) if at + 2 <= len(body) else -1
        if size < 0 or at + 2 + size > len(body):
            raise DecodeError(UNDECODABLE, f"batch item {len(items) + 1} cut off")
        items.append(body[at + 2 : at + 2 + size])
        at += 2 + size
    if len(items) != count:
        raise DecodeError(UNDECODABLE, f"batch declares {count} items, holds {len(items)}")
    return items


def to_fix(dev: str, loc: Location, serial: int) -> PositionReport:
    """A positioned :class:`Location` as the pipeline's :class:`PositionReport`."""
    if not loc.positioned:
        raise DecodeError(NO_FIX, "status bit 1 (positioned) is clear")
    return PositionReport(
        device_id=dev,
        fix_at=loc.fix_at,
        lat=loc.lat,
        lon=loc.lon,
        speed_kmh=loc.speed_kmh,
        heading_deg=loc.heading_deg,
        alt_m=loc.alt_m,
        sats=loc.sats,
        seq=serial,
    )


def decode(device_id: str, payload: bytes) -> list[PositionReport]:
    """One frame -> its fixes: one for a 0x0200, one per positioned item of a
    0x0704 (unpositioned items are left out; the gateway publishes a batch's
    items one by one, so each is judged alone). Raises ``DecodeError``
    (see :func:`parse_frame`), ``unsupported`` for other message ids,
    encrypted or sub-packaged frames, ``no_fix`` when nothing is positioned."""
    frame = parse_frame(payload)
    h = frame.header
    if h.encryption or h.total is not None:
        raise DecodeError(UNSUPPORTED, "encrypted or sub-packaged frame")
    if h.msg_id == LOCATION:
        return [to_fix(device_id, location(frame.body), h.serial)]
    if h.msg_id != BATCH:
        raise DecodeError(UNSUPPORTED, f"message id 0x{h.msg_id:04X}")
    locations = [location(item) for item in batch_items(frame.body)]
    fixes = [to_fix(device_id, loc, h.serial) for loc in locations if loc.positioned]
    if not fixes:
        raise DecodeError(NO_FIX, "no positioned report in the batch")
    return fixes


def build_frame(
    msg_id: int,
    phone: str,
    serial: int,
    body: bytes,
    *,
    version: int | None = None,
    package: tuple[int, int] | None = None,
) -> bytes:
    """A whole escaped frame with flags. ``phone`` is 12 digits (20 with
    ``version``, the 2019 header; shorter numbers are left-padded with 0);
    ``package`` is (total, index) for a sub-package."""
    if len(body) > MAX_BODY:
        raise ValueError(f"body of {len(body)} bytes exceeds {MAX_BODY}")
    attrs = len(body) | (1 << 13 if package else 0) | (1 << 14 if version is not None else 0)
    head = msg_id.to_bytes(2) + attrs.to_bytes(2)
    if version is not None:
        head += bytes([version]) + bytes.fromhex(phone.rjust(20, "0"))
    else:
        head += bytes.fromhex(phone.rjust(12, "0"))
    head += serial.to_bytes(2)
    if package:
        head += package[0].to_bytes(2) + package[1].to_bytes(2)
    content = head + body
    return bytes([FLAG]) + escape(content + bytes([check_code(content)])) + bytes([FLAG])


def general_response(to: Header, serial: int, result: int) -> bytes:
    """0x8001 answering the message ``to`` (its serial and id) with ``result``."""
    body = to.serial.to_bytes(2) + to.msg_id.to_bytes(2) + bytes([result])
    return build_frame(PLATFORM_RESPONSE, to.phone, serial, body, version=to.version)


def registration_response(to: Header, serial: int, result: int, auth_code: str = "") -> bytes:
    """0x8100 answering the registration ``to``; the code only with result 0."""
    body = to.serial.to_bytes(2) + bytes([result])
    if result == OK:
        body += auth_code.encode("ascii")
    return build_frame(REGISTER_RESPONSE, to.phone, serial, body, version=to.version)


def auth_code(body: bytes, version: int | None) -> str:
    """The code of a 0x0102 body: the whole body (2013), or length BYTE +
    code, then IMEI and software version (2019). Non-ASCII reads as ''."""
    if version is not None and body:
        body = body[1 : 1 + body[0]]
    try:
        return body.decode("ascii")
    except UnicodeDecodeError:
        return ""
