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

from geo.intake import NewIncident
from store import incidents as incident_store
from tests.conftest import wait_until
from tests.helpers import http_status
from usecases import incidents as inc

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
        incident_store.insert_event(
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
    wait_until(lambda: "Pause" not in page.inner_text("#replay-play"), 10, message="paused")
    page.wait_for_timeout(800)  # a player tick already sent may still land once
    paused = time_label(page)
    page.wait_for_timeout(1500)
    assert time_label(page) == paused  # paused means the clock stands still

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


WEST_LON = 24.9300  # C-02 waits here, about 770 m west of C-01's street
INCIDENT_MARKERS = "document.querySelectorAll('.leaflet-marker-pane .incident-icon').length"


def park(db_url: str, t0: datetime) -> None:
    """U002 parked west of C-01's street all through the incident."""
    with psycopg.connect(db_url) as conn:
        conn.cursor().executemany(
            "INSERT INTO positions (device_id, unit_id, fix_at, received_at, geom, source)"
            " VALUES ('trk-c02', 'U002', %s, %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326),"
            " 'native')",
            [(t0 + timedelta(seconds=s),) * 2 + (WEST_LON, 60.1690) for s in range(-300, 901, 10)],
        )


def marker_box(page, call_sign: str) -> dict:
    marker = page.locator(f'.leaflet-marker-icon[title="{call_sign}"]')
    marker.wait_for(timeout=15000)
    box = marker.bounding_box()
    assert box is not None
    return box


def slide_to(page, fraction: float, label: str) -> None:
    """Click the slider at ``fraction`` of its length; wait for ``label`` in the time."""
    box = page.locator("#replay-slider .rc-slider, #replay-slider").first.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 2 + (box["width"] - 4) * fraction, box["y"] + box["height"] / 2)
    wait_until(lambda: label in time_label(page), 10, message=f"the slider at {label}")


def incident_markers(page) -> int:
    return page.evaluate(INCIDENT_MARKERS)


def test_incidents_show_while_they_exist_and_an_area_limits_the_replay(
    page, sign_in, dashboard_url, db_url, artifacts
):
    t0 = (datetime.now(UTC) - timedelta(hours=3)).replace(second=0, microsecond=0)
    incident_id = seed(db_url, t0)
    park(db_url, t0)
    sign_in(page, "reviewer", "/replay")
    page.locator(".leaflet-roads-pane canvas").wait_for(timeout=20000)
    page.click("#replay-incident")
    page.get_by_text(f"#{incident_id} Assault").first.click()
    timeline = page.locator("#replay-timeline")
    timeline.get_by_text("onscene").wait_for(timeout=15000)
    west = marker_box(page, "C-02")

    # The window starts 2 min before the incident was created: no marker yet;
    # from its creation it shows, open (the unassigned P1 pulses), then as it
    # was at each moment; past its closing it is gone again.
    assert "+0:00" in time_label(page) and incident_markers(page) == 0
    timeline.get_by_role("button", name="created").click()
    page.locator(".incident-icon.incident-alarm").wait_for(timeout=10000)
    timeline.get_by_role("button", name="onscene").click()
    wait_until(lambda: "+12:00" in time_label(page), 10, message="the slider at on scene")
    north = marker_box(page, "C-01")  # by the incident
    slide_to(page, 0.5, "+8:0")  # en route: dispatched, no longer unassigned
    page.wait_for_function(
        f"{INCIDENT_MARKERS} === 1 && !document.querySelector('.incident-alarm')"
    )
    slide_to(page, 0.0, "+0:0")
    page.wait_for_function(f"{INCIDENT_MARKERS} === 0")
    south = marker_box(page, "C-01")  # parked at the south end
    slide_to(page, 1.0, "+15:")  # closed at +14:00
    page.wait_for_function(f"{INCIDENT_MARKERS} === 0")
    slide_to(page, 0.5, "+8:0")
    page.wait_for_function(f"{INCIDENT_MARKERS} === 1")

    # Draw a rectangle around C-01's street from south to north (C-02 is outside).
    page.click(".leaflet-draw-draw-rectangle")
    x = south["x"] + south["width"] / 2
    assert abs(west["x"] - x) > 80, "C-02 must lie well outside the rectangle"
    page.mouse.move(x - 40, north["y"] - 40)
    page.mouse.down()
    page.mouse.move(x, north["y"], steps=4)
    corner = (x + 40, south["y"] + south["height"] + 40)
    page.mouse.move(*corner, steps=4)
    page.wait_for_timeout(200)  # Leaflet.draw sizes the box on the moves it has handled
    page.mouse.move(*corner)
    page.mouse.up()
    wait_until(lambda: "whole station" not in page.inner_text("#replay-area-text"), 10)
    page.locator('.leaflet-marker-icon[title="C-02"]').wait_for(state="detached", timeout=10000)
    page.locator('.leaflet-marker-icon[title="C-01"]').wait_for(timeout=10000)
    page.locator("#replay-message").get_by_text("1 unit with a fix in the area").wait_for()
    assert "+8:0" in time_label(page)  # the moment shown stays where it was
    assert page.locator("#replay-unit-list").inner_text().count("C-0") == 1
    page.wait_for_function(f"{INCIDENT_MARKERS} === 1")  # the incident lies inside the area
    page.screenshot(path=str(artifacts / "replay-area.png"))

    href = page.locator("#replay-export a", has_text="CSV").get_attribute("href")
    assert href is not None and "&area=" in href
    csv = page.request.get(f"{dashboard_url}{href}")
    assert csv.status == 200
    units = {line.split(",")[3] for line in csv.text().splitlines() if line.startswith("fix,")}
    assert units == {"C-01"}
    bad = page.request.get(f"{dashboard_url}{href.split('&area=')[0]}&area=24.9,60.1,24.8")
    assert bad.status == 400 and "area:" in bad.text()

    page.click("#replay-area-clear")
    page.locator('.leaflet-marker-icon[title="C-02"]').wait_for(timeout=10000)
    assert "whole station" in page.inner_text("#replay-area-text")
