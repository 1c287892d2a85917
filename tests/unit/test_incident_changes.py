"""What the desk may change in an incident (geo.intake.parse_changes) and
how the timeline says what changed (geo.event_data.changes_text)."""

from __future__ import annotations

import pytest

from geo.event_data import changes_text
from geo.intake import IntakeError, parse_changes

TYPES = {"assault": 1, "theft": 3}


def test_blank_fields_are_left_as_they_are():
    assert parse_changes({"type": "", "priority": None, "notes": "", "lat": ""}, TYPES) == {}
    form = {"type": "theft", "priority": "2", "lat": "60.17", "lon": " 24.94 ", "notes": "x"}
    assert parse_changes(form, TYPES) == {
        "type": "theft",
        "priority": 2,
        "notes": "x",
        "lon": 24.94,
        "lat": 60.17,
    }


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"type": "nuke"}, "type"),
        ({"priority": "7"}, "priority"),
        ({"priority": "1.5"}, "priority"),
        ({"lat": "60.1"}, "lon"),  # a place is both or neither
        ({"lat": "95", "lon": "24"}, "lat"),
        ({"notes": "x" * 2001}, "notes"),
        ([1, 2], "incident"),
    ],
)
def test_bad_changes_are_refused_naming_the_field(form, field):
    with pytest.raises(IntakeError) as refused:
        parse_changes(form, TYPES)
    assert refused.value.field == field


def test_the_timeline_says_what_changed():
    changes = {"priority": [2, 1], "lon": [24.9, 24.8], "lat": [60.1, 60.2], "notes": ["a", "b"]}
    assert changes_text({"changes": changes}) == "priority 2 → 1, place, notes"
    assert changes_text({}) == "" and changes_text({"changes": "junk"}) == ""
