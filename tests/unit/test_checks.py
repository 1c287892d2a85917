"""The checks of values from the browser: what a page sends passes as it is,
anything else is BadInput naming the field (no clamping, no guessing)."""

from __future__ import annotations

import pytest

from dashboard import checks
from dashboard.checks import BadInput

HOUR = ("2026-03-02T10:00:00+00:00", "2026-03-02T11:00:00+00:00")


def refused(field: str):
    return pytest.raises(BadInput, match=f"^{field}: ")


def test_what_a_page_sends_passes_unchanged():
    assert checks.text(None, "q") == "" and checks.text("abc", "q") == "abc"
    assert checks.identifier("owntracks/a/b", "device") == "owntracks/a/b"
    assert checks.integer(7, "id") == 7 and checks.integer(7.0, "id") == 7
    assert checks.integer_text("42", "incident") == 42
    assert checks.number(2.5, "offset", 0, 10) == 2.5
    assert checks.one_of(10, "speed", (1, 10)) == 10
    assert checks.some_of(["a", "b"], "formats", ("a", "b", "c")) == ["a", "b"]
    assert checks.area([24.9, 60.1, 24.95, 60.2]) == (24.9, 60.1, 24.95, 60.2)
    assert checks.area(None) is None
    start, end = checks.window(*HOUR, 12 * 3600)
    assert (end - start).total_seconds() == 3600


@pytest.mark.parametrize(
    ("check", "field"),
    [
        (lambda: checks.text("x" * 201, "q"), "q"),
        (lambda: checks.text(5, "q"), "q"),
        (lambda: checks.identifier("", "device"), "device"),
        (lambda: checks.identifier("a\nb", "device"), "device"),
        (lambda: checks.integer(True, "id"), "id"),
        (lambda: checks.integer("7", "id"), "id"),
        (lambda: checks.integer(2**63, "id"), "id"),
        (lambda: checks.integer_text("+5", "incident"), "incident"),
        (lambda: checks.integer_text("٥", "incident"), "incident"),
        (lambda: checks.number(float("nan"), "offset", 0, 10), "offset"),
        (lambda: checks.number(11, "offset", 0, 10), "offset"),
        (lambda: checks.number(False, "offset", 0, 10), "offset"),
        (lambda: checks.one_of(10.0, "speed", (1, 10)), "speed"),
        (lambda: checks.one_of(61, "speed", (1, 60)), "speed"),
        (lambda: checks.some_of("a", "formats", ("a",)), "formats"),
        (lambda: checks.some_of(["a", "a"], "formats", ("a", "b")), "formats"),
        (lambda: checks.flag("yes", "paused"), "paused"),
        (lambda: checks.area([24.9, 60.1, 24.95]), "area"),
        (lambda: checks.area([24.9, 60.1, 24.95, float("inf")]), "area"),
        (lambda: checks.area([24.9, 95.0, 24.95, 96.0]), "area"),
        (lambda: checks.window(HOUR[0], "2026-03-09T10:00:00+00:00", 12 * 3600), "window"),
        (lambda: checks.window("2026-03-02T10:00:00", HOUR[1], 12 * 3600), "window"),
        (lambda: checks.window(HOUR[1], HOUR[0], None), "window"),
        (lambda: checks.window(["x"], HOUR[1], None), "window"),
        (lambda: checks.fields({"a": 1, "b": 2}, "store", ("a",)), "store"),
        (lambda: checks.records([{"a": "x" * 70_000}], "rows", {"a": (str,)}, 10), "rows.a"),
        (lambda: checks.records([{}] * 11, "rows", {}, 10), "rows"),
        (lambda: checks.drawn_ring({"features": [{"geometry": {}}]}), "drawn"),
    ],
)
def test_anything_else_is_bad_input_naming_its_field(check, field):
    with refused(field):
        check()
