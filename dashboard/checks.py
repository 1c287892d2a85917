"""Every value a browser sends, checked on the server before it is used.

A page of ours only ever sends what its controls allow; a value outside that
(a forged store, a hand-made request) is :class:`BadInput`. The checks here
raise it, in Dash callbacks and Flask routes alike, and the one handler
:func:`install` adds answers it with HTTP 400 and one audit row (action
``bad_input``). Dash 4.4 re-raises a callback's exception to Flask (no
``on_error`` is set), so the handler answers callbacks too; any other
exception would be a 500.

Nothing is clamped or guessed: a value is either what a page sends, or
refused. Typed form fields (a time, a name) are not checked here beyond
their type and length: what is wrong with them is shown next to the field.
"""

from __future__ import annotations

import math
import re
import reprlib
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

import flask
from psycopg_pool import ConnectionPool
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response

from dashboard import auth
from geo.access import MAX_PASSWORD_CHARS
from geo.replay_window import check_bbox, parse_window
from geo.retention import BBox

ACTION = "bad_input"
# A device id is the last level of an MQTT topic, and the ingest stores any id
# a topic carries: an MQTT topic is at most 65,535 bytes. A tighter bound here
# would refuse (400) the quality page of a room where one odd device reported.
MAX_ID_CHARS = 65_535
MAX_TEXT_CHARS = 200  # search and filter fields
MAX_PATH_CHARS = 2000  # a page address (dcc.Location's pathname)
# Above geo.access's own limit (1,024), which the form shows next to the field.
MAX_PASSWORD_TEXT_CHARS = 4 * MAX_PASSWORD_CHARS
MAX_DB_INT = 2**63 - 1  # bigint: a larger id would fail in PostgreSQL, not be unknown
SHOWN_VALUE_CHARS = 80  # of the refused value, in the audit row
MAX_OBJECT_KEYS = 100  # of an object inside a stored row (a device's refusals by reason)
_DIGITS = re.compile(r"[0-9]{1,19}")  # int() would also take "+5", " 5", "٥"


class BadInput(ValueError):
    """A value no page of ours sends: ``field`` names it, ``problem`` says
    what is wrong; ``value`` (cut short) goes into the audit row."""

    def __init__(self, field: str, problem: str, value: Any = None) -> None:
        super().__init__(f"{field}: {problem}")
        self.field, self.problem, self.value = field, problem, value


def install(server: flask.Flask, pool: ConnectionPool) -> None:
    """Answer :class:`BadInput` on ``server`` with 400 and an audit row."""

    @server.errorhandler(BadInput)
    def bad_input(exc: BadInput) -> Response:
        detail = {
            "field": exc.field,
            "problem": exc.problem,
            # reprlib: a forged store of 100,000 rows is not written out whole first.
            "value": reprlib.repr(exc.value)[:SHOWN_VALUE_CHARS],
            "path": flask.request.path,
        }
        body = flask.request.get_json(silent=True)
        if isinstance(body, dict) and isinstance(body.get("output"), str):
            detail["output"] = body["output"][:300]
        try:
            auth.refuse(pool, ACTION, detail, str(exc), 400)
        except BadRequest as answer:
            return answer.get_response()
        raise AssertionError("refuse always raises")  # pragma: no cover


def text(value: Any, field: str, max_chars: int = MAX_TEXT_CHARS) -> str:
    """Text of at most ``max_chars`` characters; None (an emptied field) is ""."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadInput(field, "text expected", value)
    if len(value) > max_chars:
        raise BadInput(field, f"at most {max_chars} characters", value)
    return value


def identifier(value: Any, field: str, max_chars: int = MAX_ID_CHARS) -> str:
    """A unit or device id: non-empty text of at most ``max_chars``
    characters, without control characters."""
    found = text(value, field, max_chars)
    if not found or not found.isprintable():
        raise BadInput(field, "an id is printable text", value)
    return found


def integer(value: Any, field: str, low: int = 0, high: int = MAX_DB_INT) -> int:
    """An integer (JSON number without a fraction, not a boolean) in [low, high]."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON has one number type: 3.0 is what some clients send for 3
    if type(value) is not int or not low <= value <= high:
        raise BadInput(field, f"an integer from {low} to {high} expected", value)
    return value


def integer_text(value: Any, field: str, low: int = 1, high: int = MAX_DB_INT) -> int:
    """An integer written in decimal digits (a query parameter) in [low, high]."""
    if not isinstance(value, str) or not _DIGITS.fullmatch(value):
        raise BadInput(field, "decimal digits expected", value)
    return integer(int(value), field, low, high)


def number(value: Any, field: str, low: float, high: float) -> float:
    """A finite number (not a boolean) in [low, high]."""
    if type(value) not in (int, float) or not math.isfinite(value) or not low <= value <= high:
        raise BadInput(field, f"a number from {low:g} to {high:g} expected", value)
    return float(value)


def one_of(value: Any, field: str, allowed: Collection[Any]) -> Any:
    """``value`` if it is one of ``allowed`` (by equality and JSON type)."""
    if not any(value == a and type(value) is type(a) for a in allowed):
        raise BadInput(field, "not one of the choices offered", value)
    return value


def some_of(value: Any, field: str, allowed: Collection[Any]) -> list[Any]:
    """A list (None: empty) of distinct values, each one of ``allowed``."""
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > len(allowed):
        raise BadInput(field, "a list of the choices offered expected", value)
    chosen = [one_of(v, field, allowed) for v in value]
    if len(set(map(repr, chosen))) != len(chosen):
        raise BadInput(field, "a choice twice", value)
    return chosen


def flag(value: Any, field: str) -> bool:
    """A boolean (None: False)."""
    if value is None:
        return False
    if not isinstance(value, bool):
        raise BadInput(field, "true or false expected", value)
    return value


def area(value: Any, field: str = "area") -> BBox | None:
    """None, or [min_lon, min_lat, max_lon, max_lat] as finite degrees in
    range (see :func:`geo.replay_window.check_bbox`)."""
    if value is None:
        return None
    if not isinstance(value, list | tuple) or any(isinstance(v, bool) for v in value):
        raise BadInput(field, "four numbers expected", value)
    try:
        return check_bbox(value)
    except ValueError as exc:
        raise BadInput(field, str(exc), value) from None


def window(start: Any, end: Any, max_s: float | None) -> tuple[datetime, datetime]:
    """A stored window (ISO 8601 times with offsets), at most ``max_s``
    seconds long (see :func:`geo.replay_window.parse_window`)."""
    try:
        return parse_window(start, end, max_s)
    except ValueError as exc:
        raise BadInput("window", str(exc), f"{start!r} – {end!r}") from None


def fields(
    value: Any, field: str, required: Collection[str], optional: Collection[str] = ()
) -> Mapping[str, Any]:
    """A JSON object with every key of ``required`` and others only from ``optional``."""
    if not isinstance(value, dict):
        raise BadInput(field, "an object expected", value)
    keys = set(value)
    if not set(required) <= keys or not keys <= {*required, *optional}:
        raise BadInput(field, f"the keys {sorted(required)} expected", sorted(map(str, keys)))
    return value


MAX_DRAWN_FEATURES = 100  # the control is emptied after each rectangle: one is what it sends
MAX_RING_POINTS = 100  # a rectangle's ring has five


def drawn_ring(value: Any) -> list[list[float]] | None:
    """The outer ring of the last shape in the draw control's GeoJSON (a
    FeatureCollection of rectangles), as [lon, lat] pairs of finite numbers;
    None when nothing is drawn."""
    if value is None:
        return None
    features = value.get("features") if isinstance(value, dict) else None
    if not isinstance(features, list) or len(features) > MAX_DRAWN_FEATURES:
        raise BadInput("drawn", "a FeatureCollection expected", value)
    if not features:
        return None
    last = features[-1]
    geometry = last.get("geometry") if isinstance(last, dict) else None
    rings = geometry.get("coordinates") if isinstance(geometry, dict) else None
    ring = rings[0] if isinstance(rings, list) and rings else None
    if not isinstance(ring, list) or not 1 <= len(ring) <= MAX_RING_POINTS:
        raise BadInput("drawn", "a rectangle expected", last)
    for point in ring:
        if not isinstance(point, list) or len(point) != 2:
            raise BadInput("drawn", "[lon, lat] points expected", point)
        number(point[0], "drawn", -180, 180)
        number(point[1], "drawn", -90, 90)
    return ring


def records(
    value: Any, field: str, schema: Mapping[str, tuple[type, ...]], max_n: int
) -> list[dict[str, Any]]:
    """A page's store of rows sent back: a list of at most ``max_n`` objects,
    each with exactly the keys of ``schema``, each value of one of its JSON
    types (text of at most :data:`MAX_ID_CHARS`, finite numbers; an object
    maps text to integers)."""
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > max_n:
        raise BadInput(field, f"a list of at most {max_n} rows expected", value)
    for row in value:
        if not isinstance(row, dict) or row.keys() != schema.keys():
            raise BadInput(field, f"rows with the keys {sorted(schema)} expected", row)
        for key, types in schema.items():
            if not _json_value_ok(row[key], types):
                raise BadInput(f"{field}.{key}", "not a value the page stores", row[key])
    return value


def _json_value_ok(value: Any, types: tuple[type, ...]) -> bool:
    if type(value) not in types:
        return False
    if isinstance(value, str):
        return len(value) <= MAX_ID_CHARS
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return len(value) <= MAX_OBJECT_KEYS and all(
            isinstance(k, str) and len(k) <= MAX_ID_CHARS and type(v) is int
            for k, v in value.items()
        )
    return True
