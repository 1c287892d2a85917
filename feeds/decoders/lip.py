"""TETRA LIP (ETSI TS 100 392-18-1) from radio terminals on ``dm/lip/{terminal_id}``.

The payload is the SDS user data as the gateway hands it over, written as hex
text (case and whitespace free) of any number of digits: an 84-bit short report
is 21 digits (radios and gateways write it so), or 22 when padded to whole
octets; each digit is four bits, read in order. First octet the protocol identifier ``0x0A``
(LIP), then the LIP PDU, most significant bit first. A common mistake is to
start reading the longitude with the PID and the PDU type still in front; the
Sepura capture in ``tests/fixtures/payloads/lip.json`` shows the result (a
"translator" put that report at 69.8 N, -134.9 E instead of 52.4 N, 16.2 E).

Decoded: the SHORT location report (PDU type 0b00) and the LONG location report
(PDU type 0b01, extension 0b0011) with location shapes point, circle, point with
altitude, circle with altitude, circle with altitude and altitude uncertainty,
and point with position error. Ellipses, arcs and every other LIP PDU raise
``DecodeError(unsupported)``. Fields after the velocity data (acknowledgement
request, reason for sending / user data) are not needed for a :class:`PositionReport` and
are not read, so a report cut short after its velocity still decodes.

Open-source decoders disagree (read 2024): see the notes at the tables below.
"""

from __future__ import annotations

import calendar
import math
from datetime import UTC, datetime

from feeds.decoders import NO_FIX, UNDECODABLE, UNSUPPORTED, DecodeError, PositionReport, anchor

LIP_PID = 0x0A
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_LON_DEG_PER_UNIT = 360 / 2**25
_LAT_DEG_PER_UNIT = 180 / 2**24

# Position error (6.3.63): upper bound of the error in metres. 6 (">200 km") has
# no upper bound and 7 is "unknown": both give acc_m None.
_POSITION_ERROR_M: tuple[float | None, ...] = (2.0, 20.0, 200.0, 2e3, 20e3, 200e3, None, None)

# Long-report location shapes (table "Location shape"), as listed identically by
# sq5bpf/osmo-tetra-sq5bpf (tetra_sds.h) and Fixitdaz/tetra-sds (lookup.py).
_SHAPE_NAMES = {
    3: "ellipse",
    6: "ellipse with altitude",
    8: "ellipse with altitude and altitude uncertainty",
    9: "arc",
    15: "location shape extension",
}
# Velocity data length after the 3-bit velocity type (table "Velocity data"), the
# sizes sq5bpf/osmo-tetra-sq5bpf uses. Horizontal velocity is always the first
# 7 bits; only type 5 (direction of travel extended, 8 bits) is read for heading
# because it is the only one a public capture confirms (Fixitdaz example_hex.txt).
_VELOCITY_BITS = {0: 0, 1: 7, 2: 10, 3: 15, 4: 21, 5: 15, 6: 21, 7: 32}
_EXTENSION_NAMES = {
    1: "immediate location report request",
    4: "location report acknowledgement",
    5: "basic location parameters request/response",
    6: "add/modify trigger request/response",
    7: "remove trigger request/response",
    8: "report trigger request/response",
    9: "report basic location parameters request/response",
    10: "location reporting enable/disable request/response",
    11: "location reporting temporary control request/response",
    12: "backlog request/response",
}


class _Bits:
    """Reads unsigned big-endian bit fields; running out is ``undecodable``."""

    def __init__(self, value: int, size: int) -> None:
        self.value = value
        self.size = size
        self.pos = 0

    def take(self, n: int) -> int:
        if self.pos + n > self.size:
            raise DecodeError(UNDECODABLE, f"LIP PDU too short: needs bit {self.pos + n}")
        self.pos += n
        return (self.value >> (self.size - self.pos)) & ((1 << n) - 1)

    def signed(self, n: int) -> int:
        raw = self.take(n)
        return raw - (1 << n) if raw >> (n - 1) else raw


def decode(
    device_id: str, payload: bytes, *, received_at: datetime | None = None
) -> list[PositionReport]:
    """Decode one LIP SDS (hex text, PID included) into one :class:`PositionReport`.

    Short reports carry no time: ``fix_at`` is ``received_at`` (aware; default
    now, UTC). A long report's time of position (day of month, h, min, s UTC) is
    put in the month that brings it closest to ``received_at``.

    Raises ``DecodeError``: ``undecodable`` (not hex, PID other than 0x0A, too
    short, reserved PDU type), ``unsupported`` (valid LIP PDUs other than
    location reports, shapes not decoded), ``no_fix`` (long report without shape).
    """
    anchor_at = anchor(received_at)
    bits = _sds_bits(payload)
    pid = bits.take(8)
    if pid != LIP_PID:
        raise DecodeError(UNDECODABLE, f"protocol identifier 0x{pid:02X} is not LIP (0x0A)")
    pdu_type = bits.take(2)
    if pdu_type == 0:
        return [_short_report(device_id, bits, anchor_at)]
    if pdu_type == 1:
        return [_extended(device_id, bits, anchor_at)]
    raise DecodeError(UNDECODABLE, f"reserved LIP PDU type {pdu_type}")


def horizontal_velocity_kmh(code: int) -> float | None:
    """Horizontal velocity (7-bit code) in km/h; 127 means unknown (None).

    Codes 0-28 are km/h as is; 29-126 follow v = C * (1 + x)^(K - A) + B with
    C=16, x=0.038, A=13, B=0 (6.3.17). The two pieces meet at 28 km/h. Public
    decoders disagree: sq5bpf/osmo-tetra-sq5bpf (get_horiz_velocity) has this
    split; tlm-solutions/tetra-decoder (short_data_service_packet.cpp) applies
    the formula to every code, so a parked radio reads 9.8 km/h; and
    Sphinx111/Tetra-Build-1 (cmce_sds_lip.cc) uses (A - K), inverting the curve.
    Fixitdaz/tetra-sds (decode.py) follows the split "as per standard".
    """
    if code == 127:
        return None
    if code <= 28:
        return float(code)
    return 16 * 1.038 ** (code - 13)


def encode_short(
    lat: float,
    lon: float,
    *,
    speed_kmh: float | None = None,
    heading_deg: float | None = None,
    acc_m: float | None = None,
    reason: int = 0,
) -> str:
    """A SHORT location report as the gateway would deliver it: hex text, PID first.

    Resolution: latitude 180/2^24 deg, longitude 360/2^25 deg (about 1 m),
    heading 22.5 deg (None is sent as north: the field has no "unknown"),
    speed 1 km/h up to 28 km/h then 3.8 % steps (None -> "unknown"), position
    error rounded up to the next class (None -> "unknown"). ``reason`` is the
    8-bit reason for sending. Raises ``ValueError`` for values out of range.
    """
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or not 0 <= reason <= 255:
        raise ValueError("lat, lon or reason out of range")
    lat_units = min(round(lat / _LAT_DEG_PER_UNIT), 2**23 - 1)
    lon_units = round(lon / _LON_DEG_PER_UNIT)
    heading_code = round((heading_deg or 0.0) / 22.5) % 16
    fields = [
        (0, 2),  # PDU type: short location report
        (0, 2),  # time elapsed: < 5 s
        (lon_units % 2**25, 25),
        (lat_units % 2**24, 24),
        (_position_error_code(acc_m), 3),
        (_velocity_code(speed_kmh), 7),
        (heading_code, 4),
        (0, 1),  # type of additional data: reason for sending
        (reason, 8),
    ]
    value = 0
    for field, width in fields:
        value = (value << width) | field
    value <<= 4  # pad the 76-bit PDU to whole octets
    return f"{LIP_PID:02X}{value:020X}"


def _sds_bits(payload: bytes) -> _Bits:
    """Hex text, odd or even length, as bits: every digit is four of them."""
    try:
        text = "".join(payload.decode("ascii").split())
    except UnicodeDecodeError as exc:
        raise DecodeError(UNDECODABLE, "payload is not hex text") from exc
    if not text:
        raise DecodeError(UNDECODABLE, "empty payload")
    # int(text, 16) would also take "0x", "_" and a sign: check the digits first.
    if not set(text) <= _HEX_DIGITS:
        raise DecodeError(UNDECODABLE, "payload is not hex text")
    return _Bits(int(text, 16), 4 * len(text))


def _short_report(device_id: str, bits: _Bits, anchor_at: datetime) -> PositionReport:
    bits.take(2)  # time elapsed: "< 5 s" .. "unknown"; too coarse to move fix_at
    lon = bits.signed(25) * _LON_DEG_PER_UNIT
    lat = bits.signed(24) * _LAT_DEG_PER_UNIT
    acc_m = _POSITION_ERROR_M[bits.take(3)]
    speed_kmh = horizontal_velocity_kmh(bits.take(7))
    heading_deg = bits.take(4) * 22.5
    return PositionReport(
        device_id, anchor_at, lat, lon, speed_kmh, heading_deg, acc_m, timed_by_receipt=True
    )


def _extended(device_id: str, bits: _Bits, anchor_at: datetime) -> PositionReport:
    extension = bits.take(4)
    if extension == 0b0011:
        return _long_report(device_id, bits, anchor_at)
    name = _EXTENSION_NAMES.get(extension)
    if name is None:
        raise DecodeError(UNDECODABLE, f"reserved LIP PDU type extension {extension}")
    raise DecodeError(UNSUPPORTED, f"LIP {name}")


def _long_report(device_id: str, bits: _Bits, anchor_at: datetime) -> PositionReport:
    fix_at = _time_data(bits, anchor_at)
    timed_by_receipt = fix_at is anchor_at
    shape = bits.take(4)
    if shape == 0:
        raise DecodeError(NO_FIX, "long location report without location shape")
    if shape not in (1, 2, 4, 5, 7, 10):
        name = _SHAPE_NAMES.get(shape, f"reserved shape {shape}")
        raise DecodeError(UNSUPPORTED, f"LIP location shape {name}")
    lon = bits.signed(25) * _LON_DEG_PER_UNIT
    lat = bits.signed(24) * _LAT_DEG_PER_UNIT
    acc_m = _uncertainty_m(bits.take(6)) if shape in (2, 5, 7) else None
    alt_m = _altitude_m(bits.take(12)) if shape in (4, 5, 7) else None
    if shape == 7:
        bits.take(3)  # altitude uncertainty: no field for it in PositionReport
    if shape == 10:
        acc_m = _POSITION_ERROR_M[bits.take(3)]
    speed_kmh, heading_deg = _velocity_data(bits)
    return PositionReport(
        device_id,
        fix_at,
        lat,
        lon,
        speed_kmh,
        heading_deg,
        acc_m,
        alt_m,
        timed_by_receipt=timed_by_receipt,
    )


def _time_data(bits: _Bits, anchor_at: datetime) -> datetime:
    """Time type: none, time elapsed (2 bits) or time of position (22 bits)."""
    time_type = bits.take(2)
    if time_type in (0, 1):
        bits.take(2 if time_type == 1 else 0)
        return anchor_at
    if time_type == 3:
        raise DecodeError(UNSUPPORTED, "reserved LIP time type")
    day, hour, minute, second = bits.take(5), bits.take(5), bits.take(6), bits.take(6)
    if not (day >= 1 and hour < 24 and minute < 60 and second < 60):
        raise DecodeError(UNDECODABLE, f"bad time of position {day} {hour}:{minute}:{second}")
    return _nearest_month(day, hour, minute, second, anchor_at)


def _nearest_month(day: int, hour: int, minute: int, second: int, anchor_at: datetime) -> datetime:
    """Day-of-month time in the month (this, last or next) nearest ``anchor_at``."""
    candidates = []
    for step in (-1, 0, 1):
        year, month = divmod(anchor_at.year * 12 + anchor_at.month - 1 + step, 12)
        if 1 <= year <= 9999 and day <= calendar.monthrange(year, month + 1)[1]:
            moment = datetime(year, month + 1, day, hour, minute, second, tzinfo=UTC)
            candidates.append(moment)
    if not candidates:
        raise DecodeError(UNDECODABLE, f"day {day} fits no month near {anchor_at:%Y-%m}")
    return min(candidates, key=lambda moment: abs(moment - anchor_at))


def _uncertainty_m(code: int) -> float:
    """Horizontal position uncertainty (6 bits): r = 2 * 1.2^(K + 5) - 4 metres.

    As read by Fixitdaz/tetra-sds (decode.py, get_uncertainty), which notes the
    standard's printed formula is ambiguous about operator order.
    """
    return 2 * 1.2 ** (code + 5) - 4


def _altitude_m(raw: int) -> float | None:
    """Altitude (1 bit type + 11 bits): metres above the WGS84 ellipsoid.

    Steps of 1 m from -200 m, 2 m above 1,000 m, 75 m above 2,450 m (as in
    Fixitdaz/tetra-sds get_altitude). Code 0 (reserved) and a user-defined
    altitude reference (type bit 1) give None.
    """
    value = raw & 0x7FF
    if raw >> 11 or value == 0:
        return None
    if value <= 1201:
        return float(value - 201)
    if value <= 1926:
        return 1000.0 + (value - 1201) * 2
    return 2450.0 + (value - 1926) * 75


def _velocity_data(bits: _Bits) -> tuple[float | None, float | None]:
    velocity_type = bits.take(3)
    width = _VELOCITY_BITS[velocity_type]
    if width == 0:
        return None, None
    speed_kmh = horizontal_velocity_kmh(bits.take(7))
    heading_deg = bits.take(8) * 360 / 256 if velocity_type == 5 else None
    bits.take(width - (15 if velocity_type == 5 else 7))
    return speed_kmh, heading_deg


def _position_error_code(acc_m: float | None) -> int:
    if acc_m is None or math.isnan(acc_m):
        return 7
    for code, bound in enumerate(_POSITION_ERROR_M[:6]):
        if bound is not None and acc_m <= bound:
            return code
    return 6


def _velocity_code(speed_kmh: float | None) -> int:
    if speed_kmh is None:
        return 127
    if not speed_kmh >= 0:
        raise ValueError("speed_kmh must be >= 0")
    if speed_kmh < 28.5:
        return round(speed_kmh)
    return min(max(round(13 + math.log(speed_kmh / 16) / math.log(1.038)), 29), 126)
