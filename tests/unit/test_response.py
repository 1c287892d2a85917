from datetime import UTC, datetime, timedelta

import pytest

from geo.response import csv_text, intervals, percentile, summary

T = datetime(2026, 11, 28, 2, 10, tzinfo=UTC)


def clock(iid, priority, *offsets):
    names = [
        "created_at",
        "first_dispatched_at",
        "first_acknowledged_at",
        "first_enroute_at",
        "first_onscene_at",
        "last_cleared_at",
        "closed_at",
    ]
    row = {"incident_id": iid, "type": "assault", "priority": priority}
    for name, off in zip(names, offsets + (None,) * (len(names) - len(offsets)), strict=True):
        row[name] = None if off is None else T + timedelta(seconds=off)
    return row


def test_intervals_per_incident():
    got = intervals(clock(1, 1, 0, 40, 55, 90, 280, 1500))
    assert got == {
        "queue_s": 40,
        "ack_s": 15,
        "turnout_s": 50,
        "travel_s": 190,
        "response_s": 280,
        "on_scene_s": 1220,
    }
    assert intervals(clock(2, 1, 0, 40))["response_s"] is None


def test_percentile_is_linear_between_ranks():
    assert percentile([10, 20, 30, 40], 50) == 25
    assert percentile([10, 20, 30, 40], 90) == pytest.approx(37)
    assert percentile([], 50) is None


def test_shift_summary_counts_the_missing_against_the_targets():
    clocks = [
        clock(1, 1, 0, 10, 20, 30, 250),
        clock(2, 2, 0, 10, 20, 30, 700),
        clock(3, 1, 0, 10),
        clock(4, 3, 0, 10, 20, 30, 100),
    ]
    figures = summary(clocks, [5.0, 25.0, 45.0, None])
    assert figures["ack_within_30s"] == 0.5
    assert figures["ack_within_60s"] == 0.75
    assert figures["p1p2_incidents"] == 3
    assert figures["p1p2_reached_within_5min"] == pytest.approx(1 / 3)
    assert figures["p1p2_reached_within_10min"] == pytest.approx(1 / 3)
    assert figures["ack_p50_s"] == 25.0
    assert figures["p1p2_response_p50_s"] == 475.0


def test_csv_has_a_row_per_incident():
    text = csv_text([clock(7, 2, 0, 30)])
    header, row = text.splitlines()
    assert header.startswith("incident_id,type,priority,created_at")
    assert row.startswith("7,assault,2,2026-11-28T02:10:00+00:00,2026-11-28T02:10:30+00:00,")
    assert row.endswith(",30.0,,,,,")
