"""The wall's shift panel in a real Chromium: the response clock tiles and
the Plotly charts render from the database, served by this host only; a
unit published outside its beat raises the "outside beat" alarm on the wall."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import psycopg

from dashboard import ids
from dispatchmap.settings import DashboardSettings
from geo.intake import NewIncident
from geo.response import shift_start
from geo.status import Action
from tests.helpers import (
    interval_call_status,
    publish_all,
    publisher,
    running_dispatcher,
    running_ingest,
    served_dashboard,
)
from usecases import incidents as inc

SCENE = (24.9452, 60.1690)
IN_B2 = (24.94182, 60.16750)  # C-01 patrols B1

TRACE_SUMS = """id => { const gd = document.querySelector('#' + id + ' .js-plotly-plot');
    return gd && gd.data ? gd.data.map(t => (t.y || []).reduce((a, b) => a + b, 0)) : null; }"""
# Every chart drawn at its box's height (Plotly redraws after the layout settles).
CHARTS_FIT = """() => [...document.querySelectorAll('.shift-graph')].every(g => {
    const svg = g.querySelector('.main-svg');
    return svg && Math.abs(svg.getBoundingClientRect().height
                           - g.getBoundingClientRect().height) < 2; })"""
BARS_DRAWN = """() => [...document.querySelectorAll(
    '#wall-chart-incidents .trace.bars .point path')].filter(p => p.getBBox().height > 0).length"""


def shift_incidents(db_url: str) -> None:
    """Two P1, a P2 and a P3 in the running shift; C-01 sent to the first and
    acknowledging in 5 s."""
    now = datetime.now(UTC)
    start = shift_start(now, ZoneInfo("Europe/Helsinki"), (time(8), time(20)))
    at = max(start, now - timedelta(seconds=90))
    with psycopg.connect(db_url) as conn, conn.transaction():
        made = [
            inc.create_incident(
                conn, NewIncident("assault", p, *SCENE, at, "", None), "110", "110", at
            )
            for p in (1, 1, 2, 3)
        ]
        assert made[0] is not None
        orders, _ = inc.dispatch_units(conn, made[0], [inc.Pick("U001")], "desk:alice", at)
        ack = inc.apply_action(
            conn, "U001", Action.ACK, "unit:U001", at + timedelta(seconds=5), order_id=orders[0].id
        )
        assert ack.ok


def test_shift_charts_and_response_clock_render(page, dashboard_url, db_url, artifacts):
    shift_incidents(db_url)
    page.goto(f"{dashboard_url}/wall")
    page.wait_for_function(
        f"() => JSON.stringify(({TRACE_SUMS})('{ids.WALL_CHART_INCIDENTS}')) == '[2,1,1,0]'",
        timeout=20000,
    )
    assert page.evaluate(TRACE_SUMS, ids.WALL_CHART_ACK) == [5, 0]  # one order, 5 s
    assert page.wait_for_function(BARS_DRAWN, timeout=10000).json_value() == 3
    assert page.locator(f"#{ids.WALL_CHART_ACK} .main-svg").count() >= 1
    ack_tile = page.locator(".shift-share").first
    assert ack_tile.locator(".count").inner_text() == "100 %"
    assert ack_tile.locator(".of").inner_text() == "1 / 1"
    assert page.locator(".modebar").count() == 0
    page.locator(".leaflet-roads-pane canvas").wait_for(timeout=15000)
    page.wait_for_function(CHARTS_FIT, timeout=10000)
    page.screenshot(path="/tmp/wall-charts.png")
    page.screenshot(path=str(artifacts / "wall-charts.png"))


def fix(where: tuple[float, float], at: datetime) -> bytes:
    return json.dumps({"lat": where[1], "lon": where[0], "ts": at.isoformat()}).encode()


def test_a_unit_outside_its_beat_is_alarmed_on_the_wall(
    page, dashboard_url, db_url, mqtt_hostport, topics, artifacts
):
    host, port = mqtt_hostport
    now = datetime.now(UTC).replace(microsecond=0)
    page.goto(f"{dashboard_url}/wall")
    page.locator(".alarm-chip.calm").wait_for(timeout=15000)
    with (
        running_ingest(db_url, host, port, topics),
        running_dispatcher(db_url, host, port, topics, outside_beat_s=5),
        publisher(host, port) as pub,
    ):
        publish_all(
            pub,
            [
                (topics.gps("trk-c01"), fix(IN_B2, now - timedelta(seconds=60))),
                (topics.gps("trk-c01"), fix(IN_B2, now)),
            ],
        )
        chip = page.locator(".alarm-chip.severity-3.fresh", has_text="outside beat C-01")
        chip.wait_for(timeout=20000)
    page.screenshot(path=str(artifacts / "wall-outside-beat.png"))
    with psycopg.connect(db_url) as conn:
        raised = conn.execute(
            "SELECT count(*) FROM events WHERE kind = 'alarm_raised' AND unit_id = 'U001' "
            "AND data->>'alarm' = 'outside_beat'"
        ).fetchone()
    assert raised == (1,)


def test_the_shift_panel_needs_a_sign_in_outside_demo(db_url):
    with served_dashboard(db_url, DashboardSettings(demo=False), pool_size=2) as base:
        assert interval_call_status(base, ids.WALL_CHARTS_TICK) == 403
