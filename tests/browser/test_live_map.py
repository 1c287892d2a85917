"""The live units layer in a real Chromium: units published through the broker
appear and move in place, an open tooltip stays open across an update, the
server sends only the units that changed, and on the desk selecting a unit
still centres the map on it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page, Response

from dashboard import ids
from tests.conftest import wait_until
from tests.helpers import publish_all, publisher, running_ingest

C01 = '.leaflet-marker-icon[title="C-01"]'


def fix(lat: float, at: datetime, speed_kmh: float = 30) -> bytes:
    body = {"lat": lat, "lon": 24.9440, "ts": at.isoformat(), "speed_kmh": speed_kmh}
    return json.dumps(body).encode()


def unit_deltas(responses: list[Response], output: str) -> list[dict]:
    """The units deltas the server sent, in order (Dash update responses)."""
    deltas = []
    for r in responses:
        if r.status == 204:  # a callback that prevented its update sends no body
            continue
        body = r.json().get("response", {})
        if output in body:
            deltas.append(body[output]["data"])
    return deltas


def ids_in(delta: dict) -> list[str]:
    return [f["properties"]["call_sign"] for f in delta["units"]["features"]]


def record_updates(page: Page) -> list[Response]:
    seen: list[Response] = []
    page.on("response", lambda r: seen.append(r) if "_dash-update-component" in r.url else None)
    return seen


def test_units_move_in_place_keep_their_tooltip_and_only_changes_are_sent(
    page, dashboard_url, db_url, mqtt_hostport, topics, artifacts
):
    host, port = mqtt_hostport
    now = datetime.now(UTC).replace(microsecond=0)
    responses = record_updates(page)
    with running_ingest(db_url, host, port, topics), publisher(host, port) as pub:
        publish_all(
            pub,
            [
                (topics.gps("trk-c01"), fix(60.1680, now - timedelta(seconds=10))),
                (topics.gps("trk-c02"), fix(60.1700, now - timedelta(seconds=5))),
            ],
        )
        page.goto(f"{dashboard_url}/wall")
        page.locator(C01).wait_for(timeout=15000)
        page.locator('.leaflet-marker-icon[title="C-02"]').wait_for(timeout=15000)

        page.hover(C01)
        tooltip = page.locator(".leaflet-tooltip", has_text="C-01")
        tooltip.wait_for(timeout=5000)
        assert "30 km/h" in tooltip.inner_text()
        # Tag the open tooltip's element: a rebuilt layer would close it and make a new one.
        tooltip.evaluate("el => { el.dataset.probe = 'kept'; }")
        page.evaluate(f"() => {{ window.dm.live.marker('{ids.UNITS}', 'U001').dmProbe = 1; }}")

        # A few metres and a new speed: still under the pointer.
        publish_all(pub, [(topics.gps("trk-c01"), fix(60.16803, now, speed_kmh=45))])
        kept = page.locator('.leaflet-tooltip[data-probe="kept"]', has_text="45 km/h")
        kept.wait_for(timeout=10000)
        assert page.evaluate(f"() => window.dm.live.marker('{ids.UNITS}', 'U001').dmProbe") == 1, (
            "the marker was rebuilt instead of moved"
        )
        page.screenshot(path=str(artifacts / "wall-live-tooltip.png"))

    deltas = unit_deltas(responses, ids.UNITS_DELTA)
    # A tick can leave before the first load is back, so that one is full too.
    full = [d for d in deltas if d["full"]]
    assert full and all(sorted(ids_in(d)) == ["C-01", "C-02"] for d in full)
    changed = [ids_in(d) for d in deltas if not d["full"] and d["units"]["features"]]
    assert changed and all(c == ["C-01"] for c in changed), changed  # C-02 never again
    assert all(d["count"] == 2 for d in deltas)


AT_PLACE = f"""([lat, lng]) => {{
    const icon = document.querySelector('.leaflet-marker-icon[title="C-01"]');
    const map = window.dm.live.marker('{ids.UNITS}', 'U001')._map;
    if (!icon || !map) return false;
    const at = map.latLngToContainerPoint([lat, lng]);
    const box = map.getContainer().getBoundingClientRect(), r = icon.getBoundingClientRect();
    return Math.abs(r.x + r.width / 2 - box.x - at.x) < 40
        && Math.abs(r.y + r.height / 2 - box.y - at.y) < 40; }}"""
VIEW = f"""() => {{ const map = window.dm.live.marker('{ids.UNITS}', 'U001')._map;
                     const c = map.getCenter();
                     return [map.getZoom(), c.lat.toFixed(6), c.lng.toFixed(6)]; }}"""


def test_a_unit_moves_across_the_screen_and_the_operators_view_is_kept(
    page, dashboard_url, db_url, mqtt_hostport, topics
):
    host, port = mqtt_hostport
    now = datetime.now(UTC).replace(microsecond=0)
    with running_ingest(db_url, host, port, topics), publisher(host, port) as pub:
        publish_all(pub, [(topics.gps("trk-c01"), fix(60.1680, now - timedelta(seconds=30)))])
        page.goto(f"{dashboard_url}/wall")
        page.locator(C01).wait_for(timeout=15000)
        start = page.evaluate(VIEW)
        page.click(".leaflet-control-zoom-in")  # the operator zooms in
        wait_until(lambda: page.evaluate(VIEW)[0] == start[0] + 1, 5, message="zoomed in")
        view = page.evaluate(VIEW)
        publish_all(pub, [(topics.gps("trk-c01"), fix(60.1700, now))])
        # Where the map itself puts 60.1700 now, 220 m (about 185 px) north:
        # not a distance from a position read while the zoom may still settle.
        page.wait_for_function(AT_PLACE, arg=[60.1700, 24.9440], timeout=20000)
        assert page.evaluate(VIEW) == view


def test_selecting_a_unit_on_the_desk_centres_the_map_on_its_live_marker(
    page, sign_in, dashboard_url, db_url, mqtt_hostport, topics
):
    host, port = mqtt_hostport
    now = datetime.now(UTC).replace(microsecond=0)
    with running_ingest(db_url, host, port, topics), publisher(host, port) as pub:
        publish_all(pub, [(topics.gps("trk-c01"), fix(60.1650, now - timedelta(seconds=5)))])
        sign_in(page, "dispatcher")
        page.wait_for_url(f"{dashboard_url}/desk")
        marker = page.locator(f"#{ids.DESK_MAP} {C01}")
        marker.wait_for(timeout=20000)
        page.locator(f"#{ids.DESK_UNIT_LIST}").get_by_role("button", name="C-01").click()

        def centred() -> bool:
            box = page.locator(f"#{ids.DESK_MAP}").bounding_box()
            m = marker.bounding_box()
            if not box or not m:
                return False
            dx = m["x"] + m["width"] / 2 - (box["x"] + box["width"] / 2)
            dy = m["y"] + m["height"] / 2 - (box["y"] + box["height"] / 2)
            return abs(dx) < 30 and abs(dy) < 30

        wait_until(centred, 10, message="the map centred on C-01")
