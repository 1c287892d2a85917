"""Replay in a real Chromium: a reviewer opens the replay of an incident
whose unit drove north in a straight line, jumps along the timeline, plays
it, steps and drags, and the unit's marker moves with the clock; the window
exports as CSV and GeoJSON to a signed-in reviewer only."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

import psycopg

from geo import incidents as inc
from geo.intake import NewIncident
from tests.conftest import wait_until
from tests.helpers import http_status

TZ = ZoneInfo("Europe/Helsinki")  # DashboardSettings' default station time zone
LON = 24.9440
SOUTH, NORTH = 60.1660, 60.1720
MARKER_Y = """() => { const m = document.querySelector('.leaflet-marker-icon[title="C-01"]');
                       return m ? m.getBoundingClientRect().y : null; }"""


def seed(db_url: str, t0: datetime) -> int:
    """U001 parked south until t0+50 s, then north at a steady pace until
    t0+590 s, one fix every 10 s; an incident at the north end with its
    whole chain logged at explicit times."""
    fixes = []
    for s in range(-300, 721, 10):
        fraction = min(max((s - 50) / 540, 0.0), 1.0)
        fixes.append((t0 + timedelta(seconds=s), SOUTH + (NORTH - SOUTH) * fraction))
    with psycopg.connect(db_url) as conn:
        days = sorted({f[0].date() for f in fixes})
        conn.execute("SELECT ensure_position_partitions(%s, %s)", (days[0], days[-1]))
        conn.cursor().executemany(
            "INSERT INTO positions (device_id, unit_id, fix_at, received_at, geom, speed_kmh,"
            " source) VALUES ('trk-c01', 'U001', %s, %s,"
            " ST_SetSRID(ST_MakePoint(%s, %s), 4326), 40, 'native')",
            [(at, at, LON, lat) for at, lat in fixes],
        )
        new = NewIncident("assault", 1, LON, NORTH + 0.0002, t0, "replay test", None)
        incident_id = inc.create_incident(conn, new, "110", "110", t0)
        assert incident_id is not None
        ranked = [
            {"unit_id": "U001", "call_sign": "C-01", "eta_s": 95.0},
            {"unit_id": "U002", "call_sign": "C-02", "eta_s": 150.0},
        ]
        inc.record_event(
            conn,
            at=t0 + timedelta(seconds=20),
            kind="suggestions_shown",
            actor="desk:d1",
            incident_id=incident_id,
            data={"ranked": ranked, "shortfall": None},
        )
        inc.dispatch_units(
            conn, incident_id, [inc.Pick("U001", 95.0, 800.0, 1)], "desk:d1", t0 + timedelta(0, 30)
        )
        for action, s in (("ack", 40), ("enroute", 50), ("onscene", 600), ("clear", 700)):
            assert inc.apply_action(conn, "U001", action, "unit:U001", t0 + timedelta(0, s)).ok
        inc.close_incident(conn, incident_id, "desk:d1", t0 + timedelta(seconds=720))
    return incident_id


def marker_y(page) -> float:
    return page.wait_for_function(MARKER_Y, timeout=15000).json_value()


def wait_marker_moved(page, before_y: float, by_px: float) -> None:
    """Until the C-01 marker is at least ``by_px`` north (up) of ``before_y``."""
    page.wait_for_function(
        """([y, d]) => { const m = document.querySelector('.leaflet-marker-icon[title="C-01"]');
                         return m && m.getBoundingClientRect().y < y - d; }""",
        arg=[before_y, by_px],
        timeout=15000,
    )


def time_label(page) -> str:
    return page.locator("#replay-time").inner_text()


def test_reviewer_replays_an_incident(page, sign_in, dashboard_url, db_url, artifacts):
    t0 = (datetime.now(UTC) - timedelta(hours=3)).replace(second=0, microsecond=0)
    incident_id = seed(db_url, t0)
    sign_in(page, "reviewer", "/replay")
    page.wait_for_url(f"{dashboard_url}/replay")
    page.locator(".leaflet-roads-pane canvas").wait_for(timeout=20000)

    page.click("#replay-incident")
    page.get_by_text(f"#{incident_id} Assault").first.click()
    timeline = page.locator("#replay-timeline")
    timeline.get_by_text("onscene").wait_for(timeout=15000)
    # What the desk showed at the moment of dispatch, and whom it sent.
    assert "C-01 · 1.6 min ← dispatched" in timeline.inner_text()
    assert "C-02 · 2.5 min" in timeline.inner_text()
    start_y = marker_y(page)  # window start = created - 2 min: parked south
    assert "+0:00" in time_label(page)

    timeline.get_by_role("button", name="onscene").click()
    onscene = (t0 + timedelta(seconds=600)).astimezone(TZ).strftime("%H:%M:%S")
    wait_until(lambda: onscene in time_label(page), 10, message="the slider at on scene")
    wait_marker_moved(page, start_y, 40)
    assert "onscene" in page.locator("#replay-unit-list").inner_text()
    page.screenshot(path=str(artifacts / "replay.png"))

    timeline.get_by_role("button", name="enroute").click()
    wait_until(lambda: "+2:50" in time_label(page), 10, message="the slider at en route")
    enroute_y = marker_y(page)
    page.click("#replay-forward")
    wait_until(lambda: "+2:55" in time_label(page), 10, message="a step of 5 s")

    page.click("#replay-speed")
    page.get_by_text("60×").click()
    page.click("#replay-play")
    wait_marker_moved(page, enroute_y, 20)  # the unit drives north while playing
    page.click("#replay-play")  # pause
    paused = time_label(page)
    page.wait_for_timeout(1200)
    assert time_label(page) == paused or "Pause" not in page.inner_text("#replay-play")

    # Dragging the slider back to its start puts the unit back south.
    box = page.locator("#replay-slider").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 2, box["y"] + box["height"] / 2)
    wait_until(lambda: "+0:0" in time_label(page), 10, message="the slider dragged to the start")
    assert abs(marker_y(page) - start_y) < 5
    page.screenshot(path=str(artifacts / "replay-start.png"))

    start = (t0 - timedelta(minutes=2)).isoformat()
    end = (t0 + timedelta(minutes=14)).isoformat()
    query = f"start={quote(start)}&end={quote(end)}"
    csv = page.request.get(f"{dashboard_url}/replay/export.csv?{query}")
    assert csv.status == 200
    lines = csv.text().splitlines()
    assert lines[0].startswith("record,at,unit_id,call_sign,lon,lat")
    assert sum(line.startswith("fix,") for line in lines) == 1 + 85  # one before, -120..720 s
    assert sum(line.startswith("event,") for line in lines) == 8
    geo = page.request.get(f"{dashboard_url}/replay/export.geojson?{query}")
    features = json.loads(geo.text())["features"]
    assert features[0]["properties"]["call_sign"] == "C-01"
    assert [f["properties"]["kind"] for f in features[1:3]] == ["created", "suggestions_shown"]
    assert http_status(f"{dashboard_url}/replay/export.csv?{query}") == 403


def test_bad_times_are_refused_next_to_the_field(page, sign_in, dashboard_url):
    sign_in(page, "reviewer", "/replay")
    page.wait_for_url(f"{dashboard_url}/replay")
    page.fill("#replay-start", "25:99")
    page.fill("#replay-end", "10:00")
    page.click("#replay-load")
    page.locator("#replay-start-error").get_by_text("ISO 8601").wait_for(timeout=10000)
    page.fill("#replay-start", "10:30")
    page.click("#replay-load")
    page.locator("#replay-end-error").get_by_text("after the start").wait_for(timeout=10000)
    assert page.locator("#replay-start-error").inner_text() == ""
