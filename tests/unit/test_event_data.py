"""Readers of stored event data: any value reads, odd ones as "–"."""

from __future__ import annotations

import pytest

from geo import event_data


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        (90, "1.5 min"),
        (0, "0.0 min"),
        (95.5, "1.6 min"),
        ("abc", "–"),
        ("90", "–"),
        (None, "–"),
        (True, "–"),
        (-5, "–"),
        (float("inf"), "–"),
        ([90], "–"),
        ({"s": 90}, "–"),
    ],
)
def test_an_eta_reads_as_minutes_or_a_dash(stored, shown):
    assert event_data.eta_text(stored) == shown


def test_data_and_ranked_entries_of_any_shape_read():
    assert event_data.data_of({"data": "oops"}) == {}
    assert event_data.data_of({"data": [1]}) == {}
    assert event_data.data_of({}) == {}
    assert event_data.ranked_of({"ranked": "U001"}) == []
    assert event_data.ranked_of({"ranked": ["x", {"unit_id": "U1"}]}) == [{}, {"unit_id": "U1"}]
    signs = {"U1": "C-01"}
    assert event_data.call_sign_of({"unit_id": "U1"}, signs) == "C-01"
    assert event_data.call_sign_of({"unit_id": "U9"}, signs) == "U9"
    assert event_data.call_sign_of({"unit_id": ["U1"], "call_sign": 7}, signs) == "–"
    assert event_data.call_sign_of({"unit_id": "U1", "call_sign": "K-1"}, signs) == "K-1"


def test_a_rank_reads_as_its_place_an_override_or_a_dash():
    assert event_data.rank_text(2) == "#2"
    assert event_data.rank_text(None) is None
    assert [event_data.rank_text(v) for v in (0, "1", 1.0, True)] == ["–"] * 4
