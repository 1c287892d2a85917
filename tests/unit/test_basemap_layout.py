"""The drawn basemap as layout data: water, then buildings, then roads, each
on its own pane; a configured tile server replaces all three."""

import dash_leaflet as dl

from dashboard.basemap import BUILDINGS_URL, WATER_URL
from dashboard.layout.wall import basemap

ROADS = {"type": "FeatureCollection", "features": []}


def test_areas_are_fetched_from_this_host_and_drawn_under_the_roads():
    panes = [c for c in basemap(ROADS, None, "") if isinstance(c, dl.Pane)]
    assert [(p.name, p.style["zIndex"]) for p in panes] == [
        ("water", 230),
        ("buildings", 240),
        ("roads", 250),
    ]
    water, buildings = (p.children[0] for p in panes[:2])
    assert (water.url, buildings.url) == (WATER_URL, BUILDINGS_URL)
    assert WATER_URL.startswith("/") and BUILDINGS_URL.startswith("/")  # same host
    assert water.interactive is False and buildings.interactive is False
    assert water.style == {"variable": "dm.basemap.waterStyle"}


def test_a_tile_server_replaces_the_drawn_basemap():
    (tiles,) = basemap(ROADS, "http://tiles.local/{z}/{x}/{y}.png", "© tiles")
    assert isinstance(tiles, dl.TileLayer)
