"""NMEA 0183 text from vehicle trackers on ``dm/nmea/{device_id}``.

A payload holds one or more sentences separated by ``\\r\\n`` or ``\\n``. Only
``$--RMC`` and ``$--GGA`` are read, whatever the talker (``GP``, ``GN``, ``BD``,
``GL``, ``GA`` ...); every other sentence (GSV, VTG, GSA, proprietary ``$P...``)
is ignored after its checksum is checked.

Units: latitude/longitude in WGS84 degrees (``ddmm.mmmm`` converted), RMC speed
over ground in knots converted to km/h (1 kn = 1.852 km/h), course in degrees
true, GGA altitude in metres above mean sea level.

An RMC and a GGA carrying the same time field are one epoch and become one
:class:`PositionReport` (date, speed, course from RMC; satellites, altitude from GGA).
A GGA alone has no date: it is dated from ``received_at`` (see :func:`decode`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from feeds.decoders import BAD_CHECKSUM, NO_FIX, UNDECODABLE, DecodeError, PositionReport, anchor

KMH_PER_KNOT = 1.852
_HALF_DAY = timedelta(hours=12)
_WANTED = frozenset({"RMC", "GGA"})


@dataclass(frozen=True, slots=True)
class _Part:
    """What one RMC or GGA sentence says about one epoch (``time_key``)."""

    kind: str
    time_key: str
    valid: bool
    fields: list[str]


def decode(
    device_id: str, payload: bytes, *, received_at: datetime | None = None
) -> list[PositionReport]:
    """Decode the RMC/GGA sentences of one payload into fixes, one per epoch.

    ``received_at`` (aware; default now, UTC) dates a GGA that has no RMC
    partner: the fix gets the UTC date that puts it within 12 h of
    ``received_at`` (a GGA at 23:59:58 received at 00:00:03 is yesterday's).

    Raises ``DecodeError``: ``undecodable`` for non-ASCII or binary bytes and for
    payloads without any RMC/GGA; ``bad_checksum`` when no RMC/GGA survives the
    checksum (wrong, missing or malformed ``*hh``); ``no_fix`` when every epoch
    says so (RMC status ``V``, GGA quality 0).
    """
    anchor_at = anchor(received_at)
    parts, bad_checksums = _read_parts(_text(payload))
    if not parts:
        if bad_checksums:
            raise DecodeError(BAD_CHECKSUM, f"{bad_checksums} sentence(s) failed the checksum")
        raise DecodeError(UNDECODABLE, "no RMC or GGA sentence")
    fixes = []
    for group in _epochs(parts):
        fix = _merge(device_id, group, anchor_at)
        if fix is not None:
            fixes.append(fix)
    if not fixes:
        raise DecodeError(NO_FIX, "receiver reports no valid fix")
    return fixes


def checksum_ok(sentence: str) -> bool:
    """True if ``$body*hh`` carries the XOR of the body's bytes as two hex digits."""
    body, star, given = sentence[1:].partition("*")
    if not sentence.startswith("$") or not star or len(given) != 2:
        return False
    computed = 0
    for byte in body.encode("ascii", "replace"):  # cheaper than reduce with a lambda per char
        computed ^= byte
    return given.upper() == f"{computed:02X}"


def _text(payload: bytes) -> str:
    try:
        text = payload.decode("ascii")
    except UnicodeDecodeError as exc:
        raise DecodeError(UNDECODABLE, "not ASCII") from exc
    # One pass in C: strip the line breaks, then the rest must be printable.
    if not text.replace("\r", "").replace("\n", "").isprintable():
        raise DecodeError(UNDECODABLE, "control characters in NMEA text")
    return text


def _read_parts(text: str) -> tuple[list[_Part], int]:
    """RMC/GGA parts with good checksums, and how many sentences failed theirs."""
    parts: list[_Part] = []
    bad = 0
    for line in (raw.strip() for raw in text.splitlines()):
        if not line.startswith("$"):
            continue  # line noise between sentences
        if not checksum_ok(line):
            bad += 1
            continue
        fields = line[1:].partition("*")[0].split(",")
        kind = fields[0][-3:]
        if len(fields[0]) == 5 and kind in _WANTED and len(fields) >= 10:
            parts.append(_part(kind, fields))
    return parts, bad


def _part(kind: str, fields: list[str]) -> _Part:
    if kind == "RMC":
        return _Part(kind, fields[1], fields[2] == "A", fields)
    quality = fields[6]
    return _Part(kind, fields[1], quality.isdigit() and int(quality) > 0, fields)


def _epochs(parts: list[_Part]) -> list[list[_Part]]:
    """Group parts by their time field, keeping first-seen order."""
    groups: dict[str, list[_Part]] = {}
    for part in parts:
        groups.setdefault(part.time_key, []).append(part)
    return list(groups.values())


def _merge(device_id: str, group: list[_Part], anchor_at: datetime) -> PositionReport | None:
    rmc = next((p for p in group if p.kind == "RMC" and p.valid), None)
    gga = next((p for p in group if p.kind == "GGA" and p.valid), None)
    if rmc is not None:
        r = rmc.fields
        fix = PositionReport(
            device_id=device_id,
            fix_at=_dated(_clock(r[1]), r[9]),
            lat=_degrees(r[3], r[4], "NS"),
            lon=_degrees(r[5], r[6], "EW"),
            speed_kmh=_times(_optional_float(r[7]), KMH_PER_KNOT),
            heading_deg=_optional_float(r[8]),
        )
    elif gga is not None:
        g = gga.fields
        fix_at = _near(_clock(g[1]), anchor_at)
        fix = PositionReport(
            device_id, fix_at, _degrees(g[2], g[3], "NS"), _degrees(g[4], g[5], "EW")
        )
    else:
        return None
    if gga is None:
        return fix
    sats = gga.fields[7]
    return replace(
        fix, alt_m=_optional_float(gga.fields[9]), sats=int(sats) if sats.isdigit() else None
    )


def _times(value: float | None, factor: float) -> float | None:
    return value * factor if value is not None else None


def _clock(hhmmss: str) -> time:
    """``hhmmss`` or ``hhmmss.sss`` -> time of day (UTC)."""
    whole, _, fraction = hhmmss.partition(".")
    if len(whole) != 6 or not whole.isdigit() or (fraction and not fraction.isdigit()):
        raise DecodeError(UNDECODABLE, f"bad NMEA time {hhmmss!r}")
    micro = round(float(f"0.{fraction}") * 1e6) if fraction else 0
    try:
        return time(int(whole[:2]), int(whole[2:4]), int(whole[4:]), min(micro, 999_999), UTC)
    except ValueError as exc:
        raise DecodeError(UNDECODABLE, f"bad NMEA time {hhmmss!r}") from exc


def _dated(clock: time, ddmmyy: str) -> datetime:
    """RMC date ``ddmmyy``; two-digit years 80-99 are 19xx (NMEA's own pivot)."""
    if len(ddmmyy) != 6 or not ddmmyy.isdigit():
        raise DecodeError(UNDECODABLE, f"bad NMEA date {ddmmyy!r}")
    yy = int(ddmmyy[4:])
    try:
        day = date(1900 + yy if yy >= 80 else 2000 + yy, int(ddmmyy[2:4]), int(ddmmyy[:2]))
    except ValueError as exc:
        raise DecodeError(UNDECODABLE, f"bad NMEA date {ddmmyy!r}") from exc
    return datetime.combine(day, clock)


def _near(clock: time, anchor_at: datetime) -> datetime:
    """The datetime with this UTC time of day that lies within 12 h of ``anchor_at``."""
    candidate = datetime.combine(anchor_at.date(), clock)
    if candidate - anchor_at > _HALF_DAY:
        return candidate - timedelta(days=1)
    if anchor_at - candidate > _HALF_DAY:
        return candidate + timedelta(days=1)
    return candidate


def _degrees(value: str, hemisphere: str, allowed: str) -> float:
    """``dddmm.mmmm`` plus hemisphere letter -> signed decimal degrees."""
    whole, _, fraction = value.partition(".")
    if hemisphere not in allowed or len(whole) < 3 or not whole.isdigit():
        raise DecodeError(UNDECODABLE, f"bad NMEA coordinate {value!r},{hemisphere!r}")
    if fraction and not fraction.isdigit():
        raise DecodeError(UNDECODABLE, f"bad NMEA coordinate {value!r}")
    minutes = float(f"{whole[-2:]}.{fraction or 0}")
    if minutes >= 60:
        raise DecodeError(UNDECODABLE, f"NMEA minutes >= 60 in {value!r}")
    degrees = int(whole[:-2]) + minutes / 60
    return -degrees if hemisphere in "SW" else degrees


def _optional_float(value: str) -> float | None:
    """Empty field -> None; NMEA leaves speed/course/altitude empty when unknown."""
    if not value:
        return None
    try:
        number = float(value)
    except ValueError as exc:
        raise DecodeError(UNDECODABLE, f"bad NMEA number {value!r}") from exc
    if number != number or number in (float("inf"), float("-inf")):
        raise DecodeError(UNDECODABLE, f"bad NMEA number {value!r}")
    return number
