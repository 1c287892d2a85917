"""Road names on the city basemap: hidden at the wall's opening zoom, shown
once per name when zoomed in to street level, hidden again when zoomed out."""

from playwright.sync_api import expect


def test_road_names_appear_at_street_zoom_once_per_name(page, dashboard_url, artifacts):
    page.goto(f"{dashboard_url}/wall")
    page.locator(".leaflet-roads-pane canvas").wait_for(timeout=15000)
    page.wait_for_timeout(500)  # the labels wait 50 ms after the roads are drawn
    labels = page.locator(".leaflet-roadNames-pane .road-name span")
    assert labels.count() == 0  # city-wide zoom: no names
    zoom_in = page.get_by_role("button", name="Zoom in")
    for _ in range(2):
        zoom_in.click()
        page.wait_for_timeout(400)
    expect(labels.first).to_be_visible()
    names = labels.all_inner_texts()
    assert len(names) >= 3 and len(set(names)) == len(names), names
    assert all(name.strip() for name in names)
    page.screenshot(path=str(artifacts / "wall-road-names.png"))
    zoom_out = page.get_by_role("button", name="Zoom out")
    for _ in range(2):
        zoom_out.click()
        page.wait_for_timeout(400)
    expect(labels).to_have_count(0)
