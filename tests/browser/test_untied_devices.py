"""A phone not on the roster, published through the broker, appears on the
wall as an untied device with its tooltip; an idle wall is then sent nothing
for that layer."""

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg

from dispatchmap.settings import DashboardSettings
from geo import queries
from store import city as city_store
from tests.conftest import wait_until
from tests.helpers import publish_all, publisher, running_ingest

DEVICE = "owntracks/stranger/phone"
MARKER = f'.leaflet-marker-icon[title="{DEVICE}"]'


def city_centre(db_url: str) -> tuple[float, float]:
    with psycopg.connect(db_url) as conn:
        extent = city_store.city_extent(conn)
    assert extent is not None
    return (extent[0] + extent[2]) / 2, (extent[1] + extent[3]) / 2


def untied_answers(page) -> list[int]:
    """Statuses of the untied-devices layer's callback answers, as they come."""
    statuses: list[int] = []

    def seen(response) -> None:
        body = response.request.post_data or ""
        if "_dash-update-component" in response.url and "layer-untied-devices" in body:
            statuses.append(response.status)

    page.on("response", seen)
    return statuses


def test_a_phone_not_on_the_roster_appears_with_its_tooltip(
    page, dashboard_url, db_url, mqtt_hostport, topics, artifacts
):
    host, port = mqtt_hostport
    lon, lat = city_centre(db_url)
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=5)
    fix = {
        "_type": "location",
        "lat": lat,
        "lon": lon,
        "tst": int(at.timestamp()),
        "acc": 8,
        "vel": 14,
        "tid": "st",
    }
    statuses = untied_answers(page)
    page.goto(f"{dashboard_url}/wall")
    page.locator(".leaflet-roads-pane canvas").wait_for(timeout=15000)
    assert page.get_by_text("Untied devices").count() == 2  # layer switcher and legend
    with running_ingest(db_url, host, port, topics), publisher(host, port) as pub:
        publish_all(pub, [(topics.owntracks(DEVICE), json.dumps(fix).encode())])
        page.locator(MARKER).wait_for(timeout=15000)

    assert page.locator(MARKER).inner_text() == "O"  # the format's initial
    page.locator(MARKER).hover()
    tooltip = page.locator(".untied-tooltip").inner_text()
    local = at.astimezone(ZoneInfo(DashboardSettings().timezone)).strftime("%H:%M:%S")
    assert f"{DEVICE} · owntracks" in tooltip
    assert "not on the roster" in tooltip
    assert f"last fix {local} (" in tooltip
    assert "14 km/h · ±8 m" in tooltip
    page.screenshot(path=str(artifacts / "wall-untied.png"))

    # Nothing changes now (the fix is under a minute old): the answers are empty
    # from here on, but for one that may have been asked before the marker came.
    drawn = len(statuses)
    assert 200 in statuses
    # Playwright hands events over only while it is called: wait in the page.
    wait_until(
        lambda: page.wait_for_timeout(100) or len(statuses) >= drawn + 5,
        timeout=15,
        message="five more ticks",
    )
    assert set(statuses[drawn + 1 :]) == {204}, statuses


def test_the_desk_map_shows_an_untied_radio_too(page, dashboard_url, db_url, sign_in):
    from feeds.pipeline import Limits, Message, Pipeline
    from feeds.topics import Topics
    from feeds.writer import Writer, ingest_batch

    lon, lat = city_centre(db_url)
    now = datetime.now(UTC).replace(microsecond=0)
    body = json.dumps({"lat": lat, "lon": lon, "ts": now.isoformat()}).encode()
    with psycopg.connect(db_url) as conn, conn.transaction():
        conn.execute(
            "INSERT INTO devices (id, unit_id, kind, format) "
            "VALUES ('spare-radio', NULL, 'radio', 'native')"
        )
        ingest_batch(
            conn, Pipeline(Topics(), Limits()), Writer(), [Message("dm/gps/spare-radio", body, now)]
        )
    sign_in(page, "dispatcher")
    page.wait_for_url(f"{dashboard_url}/desk")
    marker = page.locator('.leaflet-marker-icon[title="spare-radio"]')
    marker.wait_for(timeout=15000)
    marker.hover()
    assert "no unit" in page.locator(".untied-tooltip").inner_text()
    assert page.locator(".leaflet-control-layers").get_by_text("Untied devices").count() == 1


def test_500_made_up_devices_draw_the_newest_50_and_say_how_many_more(
    page, dashboard_url, db_url, mqtt_hostport, topics, sign_in, artifacts
):
    """One client inventing 500 device ids through the broker: each map draws
    the 50 with the newest fixes and its legend says 450 more."""
    host, port = mqtt_hostport
    lon, lat = city_centre(db_url)
    now = datetime.now(UTC).replace(microsecond=0)
    fixes = [
        (
            topics.gps(f"fake-{i:03d}"),
            json.dumps(
                {"lat": lat, "lon": lon, "ts": (now - timedelta(seconds=i)).isoformat()}
            ).encode(),
        )
        for i in range(500)
    ]
    with running_ingest(db_url, host, port, topics), publisher(host, port) as pub:
        publish_all(pub, fixes)
        with psycopg.connect(db_url) as conn:
            wait_until(
                lambda: len(queries.untied_devices(conn, datetime.now(UTC), 3600.0, 1000)) == 500,
                timeout=30,
                message="500 devices stored",
            )
    markers = page.locator(".leaflet-marker-icon.untied-icon")
    page.goto(f"{dashboard_url}/wall")
    page.get_by_text("450 more untied devices not shown").wait_for(timeout=15000)
    assert markers.count() == 50
    assert page.locator('.leaflet-marker-icon[title="fake-049"]').count() == 1
    assert page.locator('.leaflet-marker-icon[title="fake-050"]').count() == 0
    page.screenshot(path=str(artifacts / "wall-untied-capped.png"))
    sign_in(page, "dispatcher")
    page.wait_for_url(f"{dashboard_url}/desk")
    page.locator(".desk-center").get_by_text("450 more untied devices not shown").wait_for(
        timeout=15000
    )
    assert markers.count() == 50
