"""An event's stored ``data`` (jsonb) read for people: whatever was written
(a string where a number belongs, null, a missing key, a list where an
object belongs), a reader never fails; it shows :data:`UNKNOWN` instead.

Events are append-only and old rows are never rewritten, so one odd value
written once (before the writer checked it, or by a hand-made row) must not
make the incident's report or replay fail for good. Pure: no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

UNKNOWN = "–"
"""What a reader shows for a value it cannot read."""


def data_of(event: Mapping[str, Any]) -> dict[str, Any]:
    """The event's ``data`` when it is an object; {} otherwise (null, a list, text)."""
    data = event.get("data")
    return data if isinstance(data, dict) else {}


def ranked_of(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A ``suggestions_shown`` event's ranked units: [] unless ``ranked`` is
    a list; an entry that is not an object reads as {} (all of it unknown)."""
    ranked = data.get("ranked")
    if not isinstance(ranked, list):
        return []
    return [r if isinstance(r, dict) else {} for r in ranked]


def unit_of(row: Mapping[str, Any]) -> str | None:
    """The ``unit_id`` of a ranked entry when it is text; None otherwise."""
    unit_id = row.get("unit_id")
    return unit_id if isinstance(unit_id, str) else None


def call_sign_of(row: Mapping[str, Any], call_signs: Mapping[str, str]) -> str:
    """The call sign a ranked entry names, else its unit's from
    ``call_signs``, else its unit id, else :data:`UNKNOWN`."""
    stored = row.get("call_sign")
    if isinstance(stored, str) and stored:
        return stored
    unit_id = unit_of(row)
    return call_signs.get(unit_id, unit_id) if unit_id else UNKNOWN


def number_of(value: Any) -> float | None:
    """A finite number (not a boolean), else None."""
    if type(value) not in (int, float) or not math.isfinite(value):
        return None
    return float(value)


def eta_text(value: Any) -> str:
    """An ETA in seconds as ``1.5 min``; :data:`UNKNOWN` unless it is a
    finite number of seconds, zero or more."""
    eta_s = number_of(value)
    return UNKNOWN if eta_s is None or eta_s < 0 else f"{eta_s / 60:.1f} min"


def rank_text(value: Any) -> str | None:
    """A dispatch's suggestion rank as ``#2``; None when it has none (an
    override: null or no key); :data:`UNKNOWN` for anything but a positive integer."""
    if value is None:
        return None
    return f"#{value}" if type(value) is int and value > 0 else UNKNOWN


def closing_text(data: Mapping[str, Any], language: str) -> str:
    """A ``closed`` event's disposition (its name in ``language``, "en" or
    "zh"; both where the language is neither) and result, e.g. "arrest — two
    held"; "" when it carries none."""
    if not data.get("disposition"):
        return ""
    names = {"en": data.get("name_en"), "zh": data.get("name_zh")}
    name = names.get(language) or " · ".join(str(n) for n in names.values() if n)
    return f"{name or data['disposition']} — {data.get('result') or ''}".rstrip(" —")


def changes_text(data: Mapping[str, Any]) -> str:
    """An ``updated`` event's changes, e.g. "priority 2 → 1, type, notes"
    (the place, type and notes by name only: their values are long); ""
    when it carries none."""
    changes = data.get("changes")
    if not isinstance(changes, dict):
        return ""
    parts = []
    for field, values in changes.items():
        if field == "priority" and isinstance(values, list) and len(values) == 2:
            parts.append(f"priority {values[0]} → {values[1]}")
        elif field in ("lon", "lat"):
            if "place" not in parts:
                parts.append("place")
        else:
            parts.append(str(field))
    return ", ".join(parts)
