"""A replay window's rules, pure: its bounds and area as typed or stored,
an incident's window (its lifetime from its event log with
:data:`MARGIN_S` either side), and which events an area keeps. The window
is read by :mod:`usecases.replay`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from geo.retention import BBox

MARGIN_S = 120.0
"""Seconds shown before an incident's creation and after its closing."""
MAX_WINDOW_S = 12 * 3600.0
"""The longest window the replay page loads (it holds a window's tracks in
memory; seven days of a fleet were 1.2 M fixes, 725 MiB). The CLI's export
streams in chunks and takes any length."""
TIME_TEXT_CHARS = 40
"""The longest time text read: ISO 8601 with microseconds and offset is 32."""


def parse_bbox(text: str) -> BBox:
    """``min_lon,min_lat,max_lon,max_lat`` (WGS84 degrees) -> a tuple.
    Raises ValueError saying what is wrong (see :func:`check_bbox`)."""
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        values = []
    return check_bbox(values)


def check_bbox(values: Sequence[Any]) -> BBox:
    """Four numbers as a box, or ValueError saying what is wrong: not four
    finite numbers, out of range, or a minimum not below its maximum."""
    if len(values) != 4 or not all(isinstance(v, int | float) and math.isfinite(v) for v in values):
        raise ValueError("use four numbers: min_lon,min_lat,max_lon,max_lat in degrees")
    min_lon, min_lat, max_lon, max_lat = (float(v) for v in values)
    if not (-180 <= min_lon <= 180 and -180 <= max_lon <= 180):
        raise ValueError("longitudes are -180..180 degrees")
    if not (-90 <= min_lat <= 90 and -90 <= max_lat <= 90):
        raise ValueError("latitudes are -90..90 degrees")
    if not (min_lon < max_lon and min_lat < max_lat):
        raise ValueError("min_lon must be below max_lon and min_lat below max_lat")
    return min_lon, min_lat, max_lon, max_lat


def window_problem(start: datetime, end: datetime, max_s: float | None) -> str | None:
    """Why [start, end] is not a window to replay, or None: the end not after
    the start, or (with ``max_s``) longer than ``max_s`` seconds."""
    if end <= start:
        return "must be after the start"
    if max_s is not None and (end - start).total_seconds() > max_s:
        return f"a window is at most {max_s / 3600:.0f} h"
    return None


def parse_instant(text: Any) -> datetime:
    """An ISO 8601 time with its UTC offset (as a window is stored) -> an
    aware datetime; ValueError for anything else (no offset, not text, longer
    than :data:`TIME_TEXT_CHARS`)."""
    if not isinstance(text, str) or len(text) > TIME_TEXT_CHARS:
        raise ValueError("an ISO 8601 time with its UTC offset expected")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("an ISO 8601 time with its UTC offset expected") from None
    if parsed.tzinfo is None:
        raise ValueError("the time has no UTC offset")
    return parsed


def parse_window(
    start: Any, end: Any, max_s: float | None = MAX_WINDOW_S
) -> tuple[datetime, datetime]:
    """A stored window (two ISO 8601 times with offsets) -> (start, end);
    ValueError saying what is wrong (see :func:`parse_instant`,
    :func:`window_problem`)."""
    t1, t2 = parse_instant(start), parse_instant(end)
    if problem := window_problem(t1, t2, max_s):
        raise ValueError(f"end: {problem}")
    return t1, t2


def incident_window(
    events: list[dict[str, Any]], margin_s: float = MARGIN_S
) -> tuple[datetime, datetime] | None:
    """An incident's lifetime from its event log (oldest first): from
    ``created`` to ``closed`` (or its last event), ``margin_s`` each side;
    None when nothing is logged."""
    if not events:
        return None
    created = next((e["at"] for e in events if e["kind"] == "created"), events[0]["at"])
    closed = next((e["at"] for e in events if e["kind"] == "closed"), events[-1]["at"])
    margin = timedelta(seconds=margin_s)
    return created - margin, max(closed, created) + margin


def events_of(
    events: list[dict[str, Any]], incident_ids: set[int], unit_ids: set[str]
) -> list[dict[str, Any]]:
    """The events of an area's window: those of its incidents or of the
    units it replays (a unit's events follow it out of the area)."""
    return [e for e in events if e["incident_id"] in incident_ids or e["unit_id"] in unit_ids]
