"""The live map's delta: versions round-trip through the browser, anything
malformed asks for a full load, and a delta carries the wall's features."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dashboard import live, views
from geo.queries import UnitChanges
from tests.unit.test_views import row

NOW = datetime(2026, 1, 1, 10, 0, 5, tzinfo=UTC)
TZ = ZoneInfo("Europe/Helsinki")


def test_a_version_round_trips_through_the_browser_store():
    version = live.Version(NOW, 4_294_967_295)
    assert live.parse_version(version.data()) == version
    assert live.parse_version({"at": "2026-01-01T12:00:05+02:00", "xmin": 7}) == live.Version(
        NOW, 7
    )


@pytest.mark.parametrize(
    "sent",
    [
        None,
        "v1",
        [],
        {},
        {"at": NOW.isoformat()},
        {"xmin": 7},
        {"at": NOW.isoformat(), "xmin": "7"},
        {"at": NOW.isoformat(), "xmin": True},
        {"at": NOW.isoformat(), "xmin": 7.0},
        {"at": NOW.isoformat(), "xmin": -1},
        {"at": NOW.isoformat(), "xmin": 2**32},
        {"at": "yesterday", "xmin": 7},
        {"at": "2026-01-01T10:00:05", "xmin": 7},  # no offset: which clock?
        {"at": 1767261605, "xmin": 7},
    ],
)
def test_no_version_or_a_malformed_one_means_a_full_load(sent):
    assert live.parse_version(sent) is None


def test_a_delta_carries_the_walls_features_the_count_and_the_next_version():
    rows = [row("1", 5), row("2", 100, "busy"), row("3", None)]
    changes = UnitChanges(rows, snapshot_xmin=812, units_with_fix=40)
    delta = live.units_delta(changes, NOW, False, 60, 600, TZ)
    assert delta["full"] is False
    assert delta["count"] == 40
    assert delta["units"] == views.units_geojson(rows, 60, 600, TZ)
    assert [f["properties"]["id"] for f in delta["units"]["features"]] == ["1", "2"]
    assert live.parse_version(delta["version"]) == live.Version(NOW, 812)


def test_a_first_load_is_marked_full_and_an_empty_delta_is_still_a_version():
    changes = UnitChanges([], snapshot_xmin=3, units_with_fix=0)
    delta = live.units_delta(changes, NOW + timedelta(seconds=1), True, 60, 600, TZ)
    assert delta["full"] is True
    assert delta["units"]["features"] == []
    assert delta["version"] == {"at": "2026-01-01T10:00:06+00:00", "xmin": 3}
