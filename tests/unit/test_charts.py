"""The wall's shift charts and tiles, read as data."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dashboard import charts
from dashboard.layout.wall import share_grade, shift_panel, shift_tiles
from geo.response import shift_figures
from tests.unit.test_i18n import texts
from usecases.shift import Shift

TZ = ZoneInfo("Europe/Helsinki")
START = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)  # 08:00 in Helsinki
NOW = START + timedelta(hours=2, minutes=20)


def incident(priority: int, created_min: float, onscene_min: float | None) -> dict:
    created = START + timedelta(minutes=created_min)
    return {
        "incident_id": 1,
        "priority": priority,
        "created_at": created,
        "first_dispatched_at": created,
        "first_acknowledged_at": None,
        "first_enroute_at": None,
        "first_onscene_at": None
        if onscene_min is None
        else created + timedelta(minutes=onscene_min),
        "last_cleared_at": None,
    }


def order(sent_min: float, ack_s: float | None) -> dict:
    return {"sent_at": START + timedelta(minutes=sent_min), "ack_s": ack_s, "priority": 1}


SHIFT = Shift(
    START,
    NOW,
    clocks=[
        incident(1, 5, 4),  # 08:05, reached in 4 min
        incident(1, 30, 7),  # 08:30, late
        incident(3, 70, 3),  # 09:10
        incident(2, 125, None),  # 10:05, still waiting (15 min)
        incident(4, 130, 45),  # 10:10, reached after 45 min: drawn at the cap
    ],
    orders=[order(6, 12.0), order(31, 45.0), order(126, None), order(139, None)],
)


def test_hours_of_the_shift_are_local_clock_hours():
    hours = charts.hour_starts(START + timedelta(minutes=17), NOW, TZ)
    assert [h.astimezone(TZ).hour for h in hours] == [8, 9, 10]
    assert charts.hour_starts(START, START, TZ) == [START]


def test_incidents_per_hour_are_stacked_by_priority():
    fig = charts.incidents_per_hour(SHIFT, TZ)
    assert [tr["name"] for tr in fig["data"]] == ["P1", "P2", "P3", "P4"]
    assert all(tr["type"] == "bar" for tr in fig["data"])
    assert [tr["y"] for tr in fig["data"]] == [[2, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1]]
    assert fig["data"][0]["x"] == [
        "2026-11-28 08:30:00",
        "2026-11-28 09:30:00",
        "2026-11-28 10:30:00",
    ]
    assert fig["layout"]["barmode"] == "stack"
    assert fig["layout"]["xaxis"]["range"] == ["2026-11-28 08:00:00", "2026-11-28 11:00:00"]
    assert fig["layout"]["paper_bgcolor"] == "rgba(0,0,0,0)" and not fig["layout"]["showlegend"]


def test_ack_times_against_the_30_s_line():
    fig = charts.ack_times(SHIFT, TZ)
    done, waiting = fig["data"]
    assert done["y"] == [12.0, 45.0]
    assert done["marker"]["color"] == [charts.IN_TIME, charts.LATE]
    # Sent 14 min and 1 min ago, never acknowledged: capped at 120 s (▲), and 60 s.
    assert waiting["y"] == [120.0, 60.0]
    assert waiting["marker"]["symbol"] == ["triangle-up-open", "circle-open"]
    (line,) = fig["layout"]["shapes"]
    assert line["y0"] == line["y1"] == 30.0
    assert fig["layout"]["annotations"][0]["text"] == "30 s"


def test_arrival_times_against_5_and_10_minutes():
    fig = charts.arrival_times(SHIFT, TZ)
    reached, waiting = fig["data"]
    assert reached["y"] == [4.0, 7.0, 3.0, 20.0]
    assert reached["marker"]["symbol"] == ["circle", "circle", "circle", "triangle-up"]
    assert reached["marker"]["color"][:2] == [charts.PRIORITY_COLOUR[1]] * 2
    assert waiting["y"] == [15.0]
    assert [s["y0"] for s in fig["layout"]["shapes"]] == [5.0, 10.0]


def test_an_empty_shift_draws_empty_charts():
    empty = Shift(START, START + timedelta(minutes=3), [], [])
    assert [tr["y"] for tr in charts.incidents_per_hour(empty, TZ)["data"]] == [[0]] * 4
    assert all(tr["y"] == [] for tr in charts.ack_times(empty, TZ)["data"])
    assert all(tr["y"] == [] for tr in charts.arrival_times(empty, TZ)["data"])


def test_shift_tiles_show_the_shares_large_and_graded():
    figures = shift_figures(SHIFT.clocks, SHIFT.orders, NOW)
    tiles = shift_tiles(figures, "08:00", "en")
    shown = [s for tile in tiles for s in texts(tile)]
    assert shown == [
        "Shift since 08:00",
        "25 %",  # the order sent a minute ago is past its 30 s: it counts against
        "acknowledged ≤ 30 s",
        "1 / 4",
        "33 %",
        "P1–P2 on scene ≤ 5 min",
        "1 / 3",
    ]
    assert [share_grade(s) for s in (None, 0.95, 0.9, 0.8, 0.5)] == [
        "none",
        "good",
        "good",
        "fair",
        "poor",
    ]
    zh = [s for tile in shift_tiles(figures, "08:00", "zh") for s in texts(tile)]
    assert zh[0] == "本班 08:00 起" and "30 秒内签收" in zh


def test_the_panel_refreshes_on_its_own_slower_tick():
    panel = shift_panel("en")
    interval = panel.children[-1]
    assert interval.id == "wall-charts-tick" and interval.interval == 30000
    graphs = [c.children[1] for c in panel.children[1:4]]
    assert all(g.config["staticPlot"] and not g.config["displayModeBar"] for g in graphs)


def test_the_count_axis_starts_at_zero_with_about_four_ticks():
    assert charts.incidents_per_hour(SHIFT, TZ)["layout"]["yaxis"]["range"] == [0, 4 * 1.05]
    many = Shift(START, NOW, [incident(1, 5, 1)] * 10, [])
    axis = charts.incidents_per_hour(many, TZ)["layout"]["yaxis"]
    assert axis["range"] == [0, 10 * 1.05] and axis["dtick"] == 3
