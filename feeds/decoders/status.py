"""Terminal status JSON on ``dm/status/{terminal_id}``.

``ts`` is required (ISO 8601 with an offset, epoch s or epoch ms, as in
:mod:`feeds.decoders.native`). Any of these may follow: ``emergency`` (bool),
``ptt`` (bool), ``talkgroup`` (string or integer, kept as a string),
``battery_pct`` (number, 0-100 %), ``state`` (one of :data:`STATES`).
A key that is absent or ``null`` is "not said" (None).
"""

from __future__ import annotations

from typing import Any

from feeds.decoders import UNDECODABLE, DecodeError, StatusReport
from feeds.decoders.native import load_object, number, parse_time

STATES = frozenset({"ack", "enroute", "onscene", "clear", "busy", "available"})


def decode(device_id: str, payload: bytes) -> list[StatusReport]:
    """Decode one status message into one :class:`StatusReport`.

    Raises ``DecodeError(undecodable)`` for non-JSON, a missing or unreadable
    ``ts``, and any field of the wrong type or range; the detail names the field.
    """
    obj = load_object(payload)
    if "ts" not in obj:
        raise DecodeError(UNDECODABLE, "missing ts")
    return [
        StatusReport(
            device_id=device_id,
            reported_at=parse_time(obj["ts"]),
            emergency=_flag(obj, "emergency"),
            ptt=_flag(obj, "ptt"),
            talkgroup=_talkgroup(obj.get("talkgroup")),
            battery_pct=_battery_pct(obj),
            state=_state(obj.get("state")),
        )
    ]


def _flag(obj: dict[str, Any], key: str) -> bool | None:
    value = obj.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise DecodeError(UNDECODABLE, f"{key} is not a boolean")


def _talkgroup(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise DecodeError(UNDECODABLE, "talkgroup is not a string or integer")


def _battery_pct(obj: dict[str, Any]) -> float | None:
    value = number(obj, "battery_pct")
    if value is not None and not 0 <= value <= 100:
        raise DecodeError(UNDECODABLE, f"battery_pct {value} is outside 0-100")
    return value


def _state(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value not in STATES:
        raise DecodeError(UNDECODABLE, f"state {value!r} is not one of {sorted(STATES)}")
    return value
