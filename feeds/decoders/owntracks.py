"""OwnTracks JSON from phones on ``owntracks/{user}/{device}``.

``_type: location`` becomes a :class:`PositionReport`: ``lat``/``lon`` (WGS84 degrees) and
``tst`` (epoch seconds of the fix) are required; ``acc`` (m), ``alt`` (m),
``vel`` (km/h) and ``cog`` (deg) are optional. Every other ``_type`` (``lwt``,
``transition``, ``waypoint(s)``, ``status``, ``cmd``, ``card``, ``encrypted`` ...)
becomes a :class:`DeviceEvent` holding the whole object.

Quirks seen in the wild (sources in ``tests/fixtures/payloads/owntracks.json``):
apps leave out zero-valued fields; iOS sends ``vel``/``cog`` (and ``acc``,
``vac``, ``batt``) as -1 when unknown; apps before iOS 8 / Android 0.5.11 and
the Greenwich hardware tracker send every number as a string.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from feeds.decoders import UNDECODABLE, DecodeError, DeviceEvent, PositionReport
from feeds.decoders.native import load_object, parse_time


def decode(device_id: str, payload: bytes) -> list[PositionReport | DeviceEvent]:
    """Decode one OwnTracks message; ``device_id`` is ``owntracks/<user>/<device>``.

    Raises ``DecodeError(undecodable)`` for non-JSON, non-objects, a missing or
    non-string ``_type``, and location messages without usable lat/lon/tst.
    """
    obj = load_object(payload)
    kind = obj.get("_type")
    if not isinstance(kind, str) or not kind:
        raise DecodeError(UNDECODABLE, "missing _type")
    if kind == "location":
        return [_location(device_id, obj)]
    return [DeviceEvent(device_id, kind, _event_time(obj), obj)]


def _location(device_id: str, obj: dict[str, Any]) -> PositionReport:
    lat = _number(obj, "lat")
    lon = _number(obj, "lon")
    tst = _number(obj, "tst")
    if lat is None or lon is None or tst is None:
        raise DecodeError(UNDECODABLE, "location needs lat, lon and tst")
    return PositionReport(
        device_id=device_id,
        fix_at=parse_time(tst),
        lat=lat,
        lon=lon,
        speed_kmh=_known(_number(obj, "vel")),
        heading_deg=_known(_number(obj, "cog")),
        acc_m=_known(_number(obj, "acc")),
        alt_m=_number(obj, "alt"),
    )


def _event_time(obj: dict[str, Any]) -> datetime | None:
    """``tst`` of a non-location message, or None if absent or unusable.

    An event is kept even with a broken ``tst``: the pipeline stamps it received.
    """
    try:
        tst = _number(obj, "tst")
        return parse_time(tst) if tst is not None else None
    except DecodeError:
        return None


def _number(obj: dict[str, Any], key: str) -> float | None:
    """A finite number, also from a numeric string; None if absent or null."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError as exc:
            raise DecodeError(UNDECODABLE, f"{key} is not a number") from exc
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DecodeError(UNDECODABLE, f"{key} is not a number")
    if not math.isfinite(value):
        raise DecodeError(UNDECODABLE, f"{key} is not finite")
    return float(value)


def _known(value: float | None) -> float | None:
    """iOS writes -1 for "unknown" speed, course and accuracy: negative -> None."""
    return value if value is not None and value >= 0 else None
