"""What the replay page draws at a moment, from hand-made rows: incidents only
while they exist and with the status they had then (from the event log), the
area a reviewer draws or types, and the events an area keeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dashboard import replay_views
from geo import replay_window
from geo.replay import StatusTimeline, incident_status_events, incidents_at

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
TZ = ZoneInfo("Europe/Helsinki")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def event(seconds: float, kind: str, incident_id: int = 7, order_id: str | None = None) -> dict:
    return {"at": at(seconds), "kind": kind, "incident_id": incident_id, "order_id": order_id}


# Incident 7: two units sent; the first clears while the second is still out,
# so the incident is cleared only when the second clears; then closed.
# Incident 8: its only order is cancelled (nothing is cleared); still open.
LOG = [
    event(0, "created"),
    event(5, "created", 8),
    event(20, "suggestions_shown"),
    event(30, "dispatched", order_id="a"),
    event(35, "dispatched", 8, order_id="c"),
    event(40, "dispatched", order_id="b"),
    event(45, "cancelled", 8, order_id="c"),
    event(100, "onscene", order_id="a"),
    event(150, "onscene", order_id="b"),
    event(200, "cleared", order_id="a"),
    event(250, "busy", order_id="b"),
    event(260, "dispatched", order_id="d"),  # sent after clearing: never backwards
    event(300, "closed"),
]
INCIDENTS = [
    {"id": 7, "priority": 1, "name_en": "Assault", "lon": 24.94, "lat": 60.17,
     "status": "closed", "created_at": at(0), "closed_at": at(300)},
    {"id": 8, "priority": 3, "name_en": "Disturbance", "lon": 24.95, "lat": 60.16,
     "status": "dispatched", "created_at": at(5), "closed_at": None},
]  # fmt: skip


def test_incident_status_follows_the_log_forward_only() -> None:
    changes = [(e.at, e.unit_id, e.status) for e in incident_status_events(LOG)]
    assert changes == [
        (at(0), "7", "open"),
        (at(5), "8", "open"),
        (at(30), "7", "dispatched"),
        (at(35), "8", "dispatched"),
        (at(100), "7", "onscene"),
        (at(250), "7", "cleared"),
        (at(300), "7", "closed"),
    ]


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (-1, {}),
        (0, {7: "open"}),
        (4.9, {7: "open"}),
        (29.9, {7: "open", 8: "open"}),
        (35, {7: "dispatched", 8: "dispatched"}),
        (60, {7: "dispatched", 8: "dispatched"}),
        (200, {7: "onscene", 8: "dispatched"}),
        (250, {7: "cleared", 8: "dispatched"}),
        (299.9, {7: "cleared", 8: "dispatched"}),
        (300, {8: "dispatched"}),
        (86400, {8: "dispatched"}),
    ],
)
def test_an_incident_shows_only_while_it_exists_with_its_status_then(
    seconds: float, expected: dict[int, str]
) -> None:
    timeline = StatusTimeline(incident_status_events(LOG))
    found = incidents_at(INCIDENTS, timeline, at(seconds))
    assert {r["id"]: r["status"] for r in found} == expected
    drawn = replay_views.incidents_geojson_at(INCIDENTS, timeline, at(seconds))
    props = {f["properties"]["id"]: f["properties"] for f in drawn["features"]}
    assert {i: p["status"] for i, p in props.items()} == expected
    assert all(p["unassigned"] == (p["status"] == "open") for p in props.values())


def test_an_incident_without_logged_events_is_open() -> None:
    found = incidents_at(INCIDENTS[:1], StatusTimeline([]), at(10))
    assert [(r["id"], r["status"]) for r in found] == [(7, "open")]


@pytest.mark.parametrize(
    ("text", "area"),
    [
        (None, None),
        ("  ", None),
        ("24.93,60.16,24.95,60.17", (24.93, 60.16, 24.95, 60.17)),
        (" -180 , -90 , 180 , 90 ", (-180.0, -90.0, 180.0, 90.0)),
    ],
)
def test_an_area_parameter_is_read(text: str | None, area: tuple | None) -> None:
    assert replay_views.parse_area(text) == area


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("24.93,60.16,24.95", "min_lon,min_lat,max_lon,max_lat"),
        ("24.93,60.16,24.95,60.17,1", "min_lon,min_lat,max_lon,max_lat"),
        ("a,b,c,d", "min_lon,min_lat,max_lon,max_lat"),
        ("nan,60.16,24.95,60.17", "min_lon,min_lat,max_lon,max_lat"),
        ("24.93,60.16,inf,60.17", "min_lon,min_lat,max_lon,max_lat"),
        ("24.95,60.16,24.93,60.17", "min_lon must be below max_lon"),
        ("24.93,60.17,24.95,60.17", "min_lat below max_lat"),
        ("24.93,60.16,190,60.17", "longitudes are -180..180"),
        ("24.93,-91,24.95,60.17", "latitudes are -90..90"),
    ],
)
def test_a_malformed_area_is_refused_saying_why(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        replay_views.parse_area(text)


def test_a_drawn_rectangle_is_the_area_and_round_trips_as_a_parameter() -> None:
    ring = [[24.931234567, 60.16], [24.931234567, 60.17], [24.95, 60.17], [24.95, 60.16]]
    older = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[0, 0]] * 4]}}
    drawn = {
        "type": "FeatureCollection",
        "features": [
            older,
            {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]}},
        ],
    }
    area = replay_views.drawn_area(drawn)
    assert area == (24.931235, 60.16, 24.95, 60.17)  # the last drawn, to 6 decimals
    assert replay_views.parse_area(replay_views.area_text(area)) == area
    assert replay_views.drawn_area({"features": []}) is None
    assert replay_views.drawn_area(None) is None
    flat = {"features": [{"geometry": {"coordinates": [[[24.9, 60.1], [24.9, 60.2]]]}}]}
    assert replay_views.drawn_area(flat) is None  # no extent: nothing to replay
    shape = replay_views.area_geojson(area)["features"][0]["geometry"]
    assert shape["coordinates"][0][0] == shape["coordinates"][0][-1] == [24.931235, 60.16]


def test_an_area_keeps_the_events_of_its_incidents_and_of_its_units() -> None:
    events = [
        {"id": 1, "incident_id": 7, "unit_id": None},
        {"id": 2, "incident_id": 7, "unit_id": "U009"},  # an outside unit sent inside
        {"id": 3, "incident_id": 9, "unit_id": "U001"},  # an inside unit sent outside
        {"id": 4, "incident_id": 9, "unit_id": "U009"},
        {"id": 5, "incident_id": None, "unit_id": None},
    ]
    kept = replay_window.events_of(events, {7}, {"U001"})
    assert [e["id"] for e in kept] == [1, 2, 3]


def test_typed_times_are_checked_together() -> None:
    day = T0.astimezone(TZ).date()
    window, errors = replay_views.typed_window("10:00", "10:30", TZ, day)
    assert window == (
        datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
        datetime(2026, 3, 2, 8, 30, tzinfo=UTC),
    )
    assert errors == {"start": "", "end": ""}
    window, errors = replay_views.typed_window("25:99", "10:00", TZ, day)
    assert window is None and "ISO 8601" in errors["start"] and errors["end"] == ""
    window, errors = replay_views.typed_window("10:30", "10:00", TZ, day)
    assert window is None and errors == {"start": "", "end": "must be after the start"}


def test_an_area_from_the_browser_is_checked_too() -> None:
    assert replay_window.check_bbox([24.93, 60.16, 24.95, 60.17]) == (24.93, 60.16, 24.95, 60.17)
    for bad in (["24.93", 60.16, 24.95, 60.17], [24.93, 60.16, 24.95], [1, 2, None, 4]):
        with pytest.raises(ValueError, match="min_lon,min_lat,max_lon,max_lat"):
            replay_window.check_bbox(bad)
