"""Water and buildings on the wall's own basemap: fetched from the dashboard's
host, drawn on their canvases under the roads (Töölönlahti bay and the blocks
around it), with no console error and no request elsewhere."""

# Canvas pixels of a pane in the fill colour of assets/basemap.js (±6 per channel).
FILLED = """([pane, rgb]) => {
    const c = document.querySelector('.leaflet-' + pane + '-pane canvas');
    if (!c || !c.width) return 0;
    const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < px.length; i += 4) {
        if (Math.abs(px[i] - rgb[0]) <= 6 && Math.abs(px[i + 1] - rgb[1]) <= 6
            && Math.abs(px[i + 2] - rgb[2]) <= 6 && px[i + 3] > 200) n++;
    }
    return n;
}"""
WATER_RGB = [0x12, 0x3A, 0x5C]
BUILDING_RGB = [0x1B, 0x22, 0x2D]
TOOLONLAHTI = [60.1783, 24.9366]  # the bay's end inside the extract (natural=water)


def filled(page, pane: str, rgb: list[int]) -> int:
    return page.wait_for_function(
        f"args => ({FILLED})(args) > 500 && ({FILLED})(args)", arg=[pane, rgb], timeout=20000
    ).json_value()


def test_water_and_buildings_are_drawn_under_the_roads(page, dashboard_url, artifacts):
    with (
        page.expect_response(lambda r: r.url.endswith("/basemap/water.geojson")) as water,
        page.expect_response(lambda r: r.url.endswith("/basemap/buildings.geojson")) as buildings,
    ):
        page.goto(f"{dashboard_url}/wall")
    assert water.value.status == 200 and len(water.value.json()["features"]) >= 12
    assert buildings.value.status == 200 and len(buildings.value.json()["features"]) >= 450
    page.locator(".leaflet-roads-pane canvas").wait_for(timeout=15000)
    opening = filled(page, "water", WATER_RGB)
    assert filled(page, "buildings", BUILDING_RGB) > 5000
    z = page.evaluate("""() => ['water', 'buildings', 'roads'].map(p =>
        +getComputedStyle(document.querySelector('.leaflet-' + p + '-pane')).zIndex)""")
    assert z[0] < z[1] < z[2], z  # water, then buildings, under the roads

    page.evaluate(
        "c => window.dash_clientside.set_props('map', {viewport: {center: c, zoom: 17}})",
        TOOLONLAHTI,
    )
    # Two zoom levels in, the bay covers about 16 times the pixels (less the
    # part of it now out of view).
    page.wait_for_function(
        f"args => ({FILLED})(args) > 4 * {opening}", arg=["water", WATER_RGB], timeout=20000
    )
    page.screenshot(path=str(artifacts / "wall-basemap.png"))
