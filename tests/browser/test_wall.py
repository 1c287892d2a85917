"""The wall in a real Chromium: a position published through the broker is
stored in PostGIS, then drawn, then moves."""

import json
from datetime import UTC, datetime, timedelta

import psycopg

from tests.conftest import wait_equal
from tests.helpers import (
    interval_call_status,
    publish_all,
    publisher,
    running_ingest,
    served_dashboard,
)


def latest_lat(db_url: str) -> float | None:
    with psycopg.connect(db_url) as conn:
        row = conn.execute("SELECT ST_Y(geom) FROM unit_latest WHERE unit_id = 'U001'").fetchone()
        return None if row is None else round(row[0], 6)


def fix(lat: float, at: datetime) -> bytes:
    return json.dumps({"lat": lat, "lon": 24.9440, "ts": at.isoformat(), "speed_kmh": 30}).encode()


MARKER_Y = """() => { const m = document.querySelector('.leaflet-marker-icon[title="C-01"]');
                       return m ? m.getBoundingClientRect().y : null; }"""


def marker_y(page) -> float:
    # Read in one step in the page: the layer is redrawn on every refresh, so a
    # handle to the element can go stale between two calls.
    return page.wait_for_function(MARKER_Y, timeout=15000).json_value()


def test_unit_published_through_the_broker_appears_and_moves(
    page, dashboard_url, db_url, mqtt_hostport, topics, artifacts
):
    host, port = mqtt_hostport
    now = datetime.now(UTC).replace(microsecond=0)
    with running_ingest(db_url, host, port, topics), publisher(host, port) as pub:
        # A minute apart: 445 m in 5 s would be refused as a GPS jump for a car.
        publish_all(pub, [(topics.gps("trk-c01"), fix(60.1680, now - timedelta(seconds=60)))])
        wait_equal(lambda: latest_lat(db_url), 60.168)

        page.goto(f"{dashboard_url}/wall")
        page.locator(".leaflet-roads-pane canvas").wait_for(timeout=15000)  # roads drawn
        before_y = marker_y(page)
        assert page.locator(".demo-badge").inner_text().startswith("DEMO MODE")

        publish_all(pub, [(topics.gps("trk-c01"), fix(60.1720, now))])
        wait_equal(lambda: latest_lat(db_url), 60.172)
        # North is up: 0.004 degrees north moves the marker up the screen.
        page.wait_for_function(
            """y => { const m = document.querySelector('.leaflet-marker-icon[title="C-01"]');
                      return m && m.getBoundingClientRect().y < y - 20; }""",
            arg=before_y,
            timeout=10000,
        )
    page.screenshot(path=str(artifacts / "wall.png"))
    counters = page.locator("#wall-counters").inner_text()
    assert "1\nONLINE" in counters.upper()
    assert (
        "© OpenStreetMap contributors" in page.locator(".leaflet-control-attribution").inner_text()
    )


def test_unknown_path_says_not_found(page, dashboard_url):
    page.goto(f"{dashboard_url}/nowhere")
    page.get_by_text("No page at /nowhere.").wait_for(timeout=10000)


def test_emergency_button_appears_on_the_wall_at_once(
    page, dashboard_url, db_url, mqtt_hostport, topics, artifacts
):
    from tests.helpers import running_dispatcher

    host, port = mqtt_hostport
    page.goto(f"{dashboard_url}/wall")
    page.locator(".alarm-chip.calm").wait_for(timeout=15000)  # "No alarms"
    with running_dispatcher(db_url, host, port, topics), publisher(host, port) as pub:
        publish_all(
            pub,
            [
                (
                    topics.status("2620101"),
                    json.dumps({"ts": datetime.now(UTC).isoformat(), "emergency": True}).encode(),
                )
            ],
        )
        chip = page.locator(".alarm-chip.severity-1.fresh")
        chip.wait_for(timeout=15000)
        assert chip.inner_text() == "EMERGENCY C-01"
    page.screenshot(path=str(artifacts / "wall-emergency.png"))


def test_wall_data_is_refused_without_a_sign_in_outside_demo(db_url, browser):
    import urllib.request

    from dispatchmap.settings import DashboardSettings

    with served_dashboard(db_url, DashboardSettings(demo=False), pool_size=2) as base:
        assert interval_call_status(base, "tick") == 403
        with urllib.request.urlopen(f"{base}/wall", timeout=10) as response:
            assert response.url.endswith("/login?next=/wall")
