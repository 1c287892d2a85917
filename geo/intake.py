"""Validating a new incident, from the 110 feed (``dm/incidents``) or the desk
form. Pure: the caller passes the known incident types and the clock."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from feeds.decoders import DecodeError
from feeds.decoders.native import parse_time

MAX_NOTES = 2000


class IntakeError(ValueError):
    """A refused incident; ``field`` names the input to show the message next to."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class NewIncident:
    """A valid incident to create. ``lon``/``lat`` WGS84 degrees; times aware UTC."""

    type: str
    priority: int
    lon: float
    lat: float
    reported_at: datetime
    notes: str
    external_id: str | None


def _coordinate(obj: Mapping[str, Any], key: str, limit: float) -> float:
    value = obj.get(key)
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise IntakeError(key, "is not a number") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise IntakeError(key, "is required and must be a number")
    if not math.isfinite(value) or not -limit <= value <= limit:
        raise IntakeError(key, f"must be between -{limit:g} and {limit:g}")
    return float(value)


def _priority(obj: Mapping[str, Any], default: int) -> int:
    value = obj.get("priority", default)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise IntakeError("priority", "must be 1, 2, 3 or 4") from None
    if isinstance(value, bool) or (number != value and str(number) != str(value).strip()):
        raise IntakeError("priority", "must be 1, 2, 3 or 4")
    if not 1 <= number <= 4:
        raise IntakeError("priority", "must be 1, 2, 3 or 4")
    return number


def _reported_at(obj: Mapping[str, Any], now: datetime) -> datetime:
    if obj.get("reported_at") in (None, ""):
        return now
    try:
        at = parse_time(obj["reported_at"])
    except DecodeError as exc:
        raise IntakeError("reported_at", exc.detail or "is not a time") from None
    if at > now + timedelta(minutes=5):
        raise IntakeError("reported_at", "is in the future")
    return at


def parse_incident(obj: Any, default_priority: Mapping[str, int], now: datetime) -> NewIncident:
    """A :class:`NewIncident` from ``obj`` (a JSON object or form values), or
    :class:`IntakeError` naming the first bad field. ``default_priority`` maps
    each known type to its default priority."""
    if not isinstance(obj, Mapping):
        raise IntakeError("incident", "must be a JSON object")
    kind = obj.get("type")
    if kind not in default_priority:
        raise IntakeError("type", f"must be one of {', '.join(sorted(default_priority))}")
    notes = obj.get("notes") or ""
    if not isinstance(notes, str) or len(notes) > MAX_NOTES or "\x00" in notes:
        raise IntakeError("notes", f"must be text of at most {MAX_NOTES} characters")
    external = obj.get("external_id")
    if external is not None and (
        not isinstance(external, str | int) or str(external) == "" or "\x00" in str(external)
    ):
        raise IntakeError("external_id", "must be a non-empty string")
    return NewIncident(
        type=str(kind),
        priority=_priority(obj, default_priority[str(kind)]),
        lon=_coordinate(obj, "lon", 180.0),
        lat=_coordinate(obj, "lat", 90.0),
        reported_at=_reported_at(obj, now),
        notes=notes,
        external_id=None if external is None else str(external),
    )


MAX_RESULT = 2000


@dataclass(frozen=True, slots=True)
class Closing:
    """How an incident ended: a ``disposition`` id, its English and Chinese
    names, and the ``result`` in words."""

    disposition: str
    name_en: str
    name_zh: str
    result: str


def parse_closing(disposition: Any, result: Any, known: Mapping[str, tuple[str, str]]) -> Closing:
    """A :class:`Closing` from the desk's (or a terminal's) values, or
    :class:`IntakeError` naming the bad field: the disposition must be a key
    of ``known`` (id -> English and Chinese names), the result non-blank text
    of at most ``MAX_RESULT`` characters."""
    if not isinstance(disposition, str) or disposition not in known:
        raise IntakeError("disposition", "choose how the incident ended")
    if not isinstance(result, str) or not result.strip():
        raise IntakeError("result", "write the result")
    if len(result) > MAX_RESULT or "\x00" in result:
        raise IntakeError("result", f"must be text of at most {MAX_RESULT} characters")
    return Closing(disposition, *known[disposition], result.strip())


CHANGEABLE = ("type", "priority", "notes", "lon", "lat")


def parse_changes(obj: Any, default_priority: Mapping[str, int]) -> dict[str, Any]:
    """What the desk changes in an incident: among ``type``, ``priority``,
    ``notes`` and the place (``lat`` and ``lon`` together), those given (a
    blank or missing one is left as it is), checked as :func:`parse_incident`
    checks them; :class:`IntakeError` names the first bad field."""
    if not isinstance(obj, Mapping):
        raise IntakeError("incident", "must be a JSON object")
    given = {k: obj.get(k) for k in CHANGEABLE if obj.get(k) not in (None, "")}
    out: dict[str, Any] = {}
    if "type" in given:
        if given["type"] not in default_priority:
            raise IntakeError("type", f"must be one of {', '.join(sorted(default_priority))}")
        out["type"] = str(given["type"])
    if "priority" in given:
        out["priority"] = _priority(given, 0)
    if "notes" in given:
        notes = given["notes"]
        if not isinstance(notes, str) or len(notes) > MAX_NOTES or "\x00" in notes:
            raise IntakeError("notes", f"must be text of at most {MAX_NOTES} characters")
        out["notes"] = notes
    if "lat" in given or "lon" in given:
        out["lon"] = _coordinate(given, "lon", 180.0)
        out["lat"] = _coordinate(given, "lat", 90.0)
    return out
