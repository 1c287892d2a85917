"""A unit's status set by hand (geo.status.manual_change): what each choice
is, which need a reason, and what is refused."""

from __future__ import annotations

import pytest

from geo.status import MAX_REASON, Action, ManualStatusError, manual_change


@pytest.mark.parametrize(
    ("choice", "reason", "expected"),
    [
        ("available", None, (Action.AVAILABLE, None)),
        ("available", "  ", (Action.AVAILABLE, None)),
        ("busy", " report writing ", (Action.BUSY, "report writing")),
        ("meal", None, (Action.BUSY, "meal")),
        ("meal", "canteen", (Action.BUSY, "meal: canteen")),
        ("out_of_service", "flat tyre", (Action.OUT_OF_SERVICE, "flat tyre")),
        ("off_duty", "", (Action.OFF_DUTY, None)),
    ],
)
def test_each_choice_is_an_action_with_its_reason(choice, reason, expected):
    assert manual_change(choice, reason) == expected


@pytest.mark.parametrize(
    ("choice", "reason", "field"),
    [
        (None, "x", "status"),
        ("dispatched", "x", "status"),  # only the order moves a unit there
        ("onscene", "x", "status"),
        (["busy"], "x", "status"),
        ("busy", None, "reason"),  # busy with what?
        ("out_of_service", "   ", "reason"),
        ("busy", "x" * (MAX_REASON + 1), "reason"),
        ("busy", 5, "reason"),
        ("busy", "a\x00b", "reason"),
    ],
)
def test_anything_else_is_refused_naming_the_field(choice, reason, field):
    with pytest.raises(ManualStatusError) as refused:
        manual_change(choice, reason)
    assert refused.value.field == field
