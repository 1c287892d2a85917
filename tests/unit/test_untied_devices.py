"""The untied-devices layer as data: its features, its fingerprint, its place
on both maps and the rights its callbacks need."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dash import Dash
from psycopg_pool import ConnectionPool

from dashboard import auth, ids, views
from dashboard.app import create_app
from dashboard.layout.desk import desk_map
from dashboard.layout.wall import overlays
from dispatchmap.settings import DashboardSettings, PresenceSettings
from tests.dash_calls import callback_key

HELSINKI = ZoneInfo("Europe/Helsinki")
FIX_AT = datetime(2026, 1, 1, 10, 0, 5, tzinfo=UTC)
EMPTY = {"type": "FeatureCollection", "features": []}


def row(device, kind="unknown", fmt="owntracks", age=30.0, speed=12.6, acc=8.4):
    return {
        "device_id": device,
        "kind": kind,
        "format": fmt,
        "fix_at": FIX_AT,
        "fix_age_s": age,
        "speed_kmh": speed,
        "acc_m": acc,
        "lon": 24.94,
        "lat": 60.17,
    }


def props(rows, lang="en"):
    layer = views.untied_devices_geojson(rows, 60, 600, HELSINKI, lang)
    return [f["properties"] for f in layer["features"]]


def test_each_device_says_why_it_is_untied_and_when_it_last_reported():
    stranger, spare = props(
        [row("owntracks/a/b"), row("radio-9", "radio", "lip", 61.4, None, None)]
    )
    assert stranger == {
        "id": "owntracks/a/b",
        "kind": "unknown",
        "format": "owntracks",
        "initial": "O",
        "on_roster": False,
        "tie": "not on the roster",
        "presence": "online",
        "fix_label": "last fix",
        "fix_time": "12:00:05",  # Helsinki is UTC+2 in January
        "fix_at": "2026-01-01T10:00:05+00:00",
        "fix_age_s": 30,
        "speed_kmh": 13,
        "acc_m": 8,
    }
    assert (spare["tie"], spare["initial"], spare["presence"]) == ("no unit", "L", "stale")
    assert (spare["speed_kmh"], spare["acc_m"], spare["on_roster"]) == (None, None, True)
    assert views.untied_devices_geojson([], 60, 600, HELSINKI)["features"] == []


def test_labels_in_chinese():
    stranger, spare = props([row("x"), row("y", "phone")], "zh")
    assert (stranger["tie"], spare["tie"], spare["fix_label"]) == (
        "不在名册",
        "未绑定警力",
        "最后定位",
    )


def test_the_key_changes_with_a_device_a_fix_or_a_presence_and_nothing_else():
    def key(rows):
        return views.untied_devices_key(views.untied_devices_geojson(rows, 60, 600, HELSINKI))

    base = key([row("a"), row("b")])
    assert key([row("b"), row("a", age=45.0, speed=3.0)]) == base  # order, age, speed
    assert key([row("a")]) != base
    assert key([row("a"), row("b", age=120.0)]) != base  # stale now
    assert key([row("a"), {**row("b"), "fix_at": FIX_AT + timedelta(seconds=1)}]) != base
    assert key([row("a"), row("b", kind="phone")]) != base  # put on the roster


def walk(component) -> list:
    """A component and everything under it, depth first."""
    found = [component]
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if child is not None and not isinstance(child, str):
            found += walk(child)
    return found


def test_both_maps_have_the_layer_in_their_layer_switcher():
    wall = overlays(EMPTY, EMPTY, EMPTY, EMPTY, "zh")
    untied = [o for o in wall if o.name == "未绑定终端"]
    assert len(untied) == 1 and untied[0].children.id == ids.WALL_UNTIED
    assert untied[0].children.pointToLayer == {"variable": "dm.map.untiedMarker"}
    desk = [c for c in walk(desk_map(EMPTY, EMPTY, None, None, "©")) if hasattr(c, "name")]
    untied = [o for o in desk if o.name == "Untied devices"]
    assert len(untied) == 1 and untied[0].children.id == ids.DESK_UNTIED


def test_the_callbacks_need_the_wall_and_the_desk():
    pool = ConnectionPool("postgresql://unused", open=False)
    app: Dash = create_app(DashboardSettings(), PresenceSettings(), pool)

    def page(tick, output):
        return auth.callback_page(app.callback_map[callback_key(app, tick, output=output)])

    assert page(ids.TICK, ids.WALL_UNTIED) == auth.WALL
    assert page(ids.DESK_TICK, ids.DESK_UNTIED) == "/desk"
