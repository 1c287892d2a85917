"""Native JSON from vehicle GPS trackers on ``dm/gps/{device_id}``.

Required: ``lat``, ``lon`` (WGS84 degrees), ``ts`` (ISO 8601 with an offset, or
epoch seconds, or epoch milliseconds). Optional: ``speed_kmh``, ``heading_deg``,
``acc_m``, ``alt_m``, ``sats``, ``ignition``, ``seq``.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

from feeds.decoders import UNDECODABLE, DecodeError, PositionReport

# Epoch values above this are milliseconds (1e11 s is the year 5138).
_EPOCH_MS_THRESHOLD = 1e11


def parse_time(value: Any) -> datetime:
    """Epoch seconds, epoch milliseconds or ISO 8601 *with* an offset -> aware UTC.

    A naive ISO time is refused: guessing the zone of a terminal is how
    positions end up eight hours off.
    """
    if isinstance(value, bool):
        raise DecodeError(UNDECODABLE, "ts is a boolean")
    if isinstance(value, int | float):
        seconds = float(value)
        if not math.isfinite(seconds):
            raise DecodeError(UNDECODABLE, "ts is not finite")
        if abs(seconds) >= _EPOCH_MS_THRESHOLD:
            seconds /= 1000.0
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise DecodeError(UNDECODABLE, f"ts out of range: {value!r}") from exc
    if isinstance(value, str):
        text = value.strip()
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError as exc:
            raise DecodeError(UNDECODABLE, f"ts is not ISO 8601: {value!r}") from exc
        if parsed.tzinfo is None:
            raise DecodeError(UNDECODABLE, f"ts has no UTC offset: {value!r}")
        return parsed.astimezone(UTC)
    raise DecodeError(UNDECODABLE, f"ts has type {type(value).__name__}")


def number(obj: dict[str, Any], key: str, *, required: bool = False) -> float | None:
    """A finite number from ``obj[key]``; ``None`` if absent and optional."""
    value = obj.get(key)
    if value is None:
        if required:
            raise DecodeError(UNDECODABLE, f"missing {key}")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DecodeError(UNDECODABLE, f"{key} is not a number")
    if not math.isfinite(value):
        raise DecodeError(UNDECODABLE, f"{key} is not finite")
    return float(value)


def load_object(payload: bytes) -> dict[str, Any]:
    """Parse a JSON object from a payload, or raise ``DecodeError(undecodable)``."""
    try:
        # JSON between systems is UTF-8 (RFC 8259, a BOM tolerated); decoding
        # here skips json.loads' guessing among UTF-8/16/32 on every message.
        obj = json.loads(payload.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise DecodeError(UNDECODABLE, "not JSON") from exc
    if not isinstance(obj, dict):
        raise DecodeError(UNDECODABLE, "JSON is not an object")
    return obj


def decode(device_id: str, payload: bytes) -> list[PositionReport]:
    """Decode one native JSON report into one :class:`PositionReport`."""
    obj = load_object(payload)
    if "ts" not in obj:
        raise DecodeError(UNDECODABLE, "missing ts")
    lat = number(obj, "lat", required=True)
    lon = number(obj, "lon", required=True)
    assert lat is not None and lon is not None
    sats = number(obj, "sats")
    seq = obj.get("seq")
    return [
        PositionReport(
            device_id=device_id,
            fix_at=parse_time(obj["ts"]),
            lat=lat,
            lon=lon,
            speed_kmh=number(obj, "speed_kmh"),
            heading_deg=number(obj, "heading_deg"),
            acc_m=number(obj, "acc_m"),
            alt_m=number(obj, "alt_m"),
            sats=int(sats) if sats is not None else None,
            seq=seq if isinstance(seq, int) and not isinstance(seq, bool) else None,
        )
    ]
