"""Closing an incident needs a disposition from the station's list and a
result in words (geo.intake.parse_closing); the timeline's text of it."""

from __future__ import annotations

import pytest

from geo.event_data import closing_text
from geo.intake import MAX_RESULT, Closing, IntakeError, parse_closing

KNOWN = {"arrest": ("arrest", "抓获"), "no_trace": ("no trace", "未发现")}


def test_a_known_disposition_and_a_result_close():
    closing = parse_closing("arrest", "  two held  ", KNOWN)
    assert closing == Closing("arrest", "arrest", "抓获", "two held")


@pytest.mark.parametrize(
    ("disposition", "result", "field"),
    [
        (None, "two held", "disposition"),
        ("", "two held", "disposition"),
        ("nuke", "two held", "disposition"),  # not on the list: forged
        (["arrest"], "two held", "disposition"),
        ("arrest", None, "result"),
        ("arrest", "   ", "result"),
        ("arrest", 7, "result"),
        ("arrest", "x" * (MAX_RESULT + 1), "result"),
        ("arrest", "held\x00", "result"),
    ],
)
def test_anything_else_is_refused_naming_the_field(disposition, result, field):
    with pytest.raises(IntakeError) as refused:
        parse_closing(disposition, result, KNOWN)
    assert refused.value.field == field


def test_the_timeline_says_how_it_ended_in_each_language():
    data = {"disposition": "arrest", "name_en": "arrest", "name_zh": "抓获", "result": "two held"}
    assert closing_text(data, "en") == "arrest — two held"
    assert closing_text(data, "zh") == "抓获 — two held"
    assert closing_text(data, "both") == "arrest · 抓获 — two held"
    assert closing_text({}, "en") == ""  # closed by the system: nothing to say
    assert closing_text({"disposition": "x"}, "en") == "x"


def test_replay_shows_how_it_ended_on_the_timeline():
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from dashboard.replay_views import timeline_entries

    at = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
    data = {"disposition": "arrest", "name_en": "arrest", "name_zh": "抓获", "result": "two held"}
    events = [
        {"id": 1, "at": at, "kind": "created", "unit_id": None, "actor": "110", "data": {}},
        {"id": 2, "at": at, "kind": "closed", "unit_id": None, "actor": "desk:b", "data": data},
    ]
    rows = timeline_entries(events, at, ZoneInfo("Europe/Helsinki"), {})
    assert [r["detail"] for r in rows] == ["", "arrest · 抓获 — two held"]
