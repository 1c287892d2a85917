"""The shift the wall shows: its configured start times, when the running
one began (in the station's time zone, across midnight and daylight saving),
and its response clock so far."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from dispatchmap.settings import DashboardSettings, DispatchSettings
from geo.response import shift_figures, shift_start

HELSINKI = ZoneInfo("Europe/Helsinki")
DAY_NIGHT = (time(8), time(20))


def test_shift_starts_come_from_the_environment(monkeypatch):
    monkeypatch.delenv("DM_DASH_SHIFT_STARTS", raising=False)
    assert DashboardSettings().shift_start_times() == DAY_NIGHT
    monkeypatch.setenv("DM_DASH_SHIFT_STARTS", "22:00, 06:00,14:00")
    assert DashboardSettings().shift_start_times() == (time(6), time(14), time(22))


@pytest.mark.parametrize("bad", ["", "8:00", "08:00,08:00", "25:00", "08-00", "08:00,", "noon"])
def test_bad_shift_starts_are_refused(monkeypatch, bad):
    monkeypatch.setenv("DM_DASH_SHIFT_STARTS", bad)
    with pytest.raises(ValidationError, match="shift_starts"):
        DashboardSettings()


def test_outside_beat_grace_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("DM_DISPATCH_OUTSIDE_BEAT_S", raising=False)
    assert DispatchSettings().outside_beat_s == 300.0
    monkeypatch.setenv("DM_DISPATCH_OUTSIDE_BEAT_S", "0")
    assert DispatchSettings().outside_beat_s == 0.0
    monkeypatch.setenv("DM_DISPATCH_OUTSIDE_BEAT_S", "-1")
    with pytest.raises(ValidationError):
        DispatchSettings()


def local(*args) -> datetime:
    return datetime(*args, tzinfo=HELSINKI).astimezone(UTC)


@pytest.mark.parametrize(
    ("now", "began"),
    [
        (local(2026, 11, 28, 9, 30), local(2026, 11, 28, 8, 0)),
        (local(2026, 11, 28, 8, 0), local(2026, 11, 28, 8, 0)),  # the change itself
        (local(2026, 11, 28, 7, 59), local(2026, 11, 27, 20, 0)),  # the night shift
        (local(2026, 11, 28, 23, 0), local(2026, 11, 28, 20, 0)),
    ],
)
def test_the_running_shift_began_at_the_last_local_start(now, began):
    assert shift_start(now, HELSINKI, DAY_NIGHT) == began


def test_shift_start_across_a_daylight_saving_change():
    # 2026-03-29: Helsinki moves from +02:00 to +03:00 at 03:00 local.
    now = local(2026, 3, 29, 9, 0)
    assert shift_start(now, HELSINKI, DAY_NIGHT) == datetime(2026, 3, 29, 5, 0, tzinfo=UTC)
    night = shift_start(local(2026, 3, 29, 4, 0), HELSINKI, DAY_NIGHT)
    assert night == datetime(2026, 3, 28, 18, 0, tzinfo=UTC)
    with pytest.raises(ValueError):
        shift_start(now, HELSINKI, ())


NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def clock(priority: int, created_ago_s: float, reached_after_s: float | None) -> dict:
    created = NOW - timedelta(seconds=created_ago_s)
    onscene = None if reached_after_s is None else created + timedelta(seconds=reached_after_s)
    return {
        "priority": priority,
        "created_at": created,
        "first_dispatched_at": created,
        "first_acknowledged_at": None,
        "first_enroute_at": None,
        "first_onscene_at": onscene,
        "last_cleared_at": None,
    }


def order(sent_ago_s: float, ack_s: float | None) -> dict:
    return {"sent_at": NOW - timedelta(seconds=sent_ago_s), "ack_s": ack_s}


def test_shift_figures_count_only_what_is_decided():
    clocks = [
        clock(1, 1000, 200),  # in time
        clock(2, 1000, 400),  # late
        clock(1, 1000, None),  # never reached, past 5 min: against
        clock(1, 100, None),  # still inside its 5 min: not counted yet
        clock(3, 1000, 100),  # P3: not in the 5-minute target
    ]
    orders = [order(600, 10.0), order(600, 31.0), order(600, None), order(10, None)]
    got = shift_figures(clocks, orders, NOW)
    assert (got["ack_in_time"], got["ack_counted"]) == (1, 3)
    assert got["ack_share"] == pytest.approx(1 / 3)
    assert (got["reached_in_time"], got["reached_counted"]) == (1, 3)
    assert got["reached_share"] == pytest.approx(1 / 3)


def test_an_empty_shift_has_no_share_yet():
    got = shift_figures([], [order(5, None)], NOW)
    assert got["ack_share"] is None and got["reached_share"] is None
    assert got["ack_counted"] == 0
