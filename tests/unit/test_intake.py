from datetime import UTC, datetime

import pytest

from geo.intake import IntakeError, parse_incident

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
TYPES = {"assault": 1, "disturbance": 3}


def test_a_110_incident_with_defaults():
    got = parse_incident(
        {
            "type": "disturbance",
            "lat": 60.17,
            "lon": 24.94,
            "external_id": 110123,
            "notes": "noise",
        },
        TYPES,
        NOW,
    )
    assert (got.type, got.priority, got.lat, got.lon, got.external_id, got.reported_at) == (
        "disturbance",
        3,
        60.17,
        24.94,
        "110123",
        NOW,
    )


def test_form_values_arrive_as_text():
    got = parse_incident(
        {
            "type": "assault",
            "lat": "60.17",
            "lon": " 24.94",
            "priority": "2",
            "reported_at": "2026-11-28T13:59:00+02:00",
        },
        TYPES,
        NOW,
    )
    assert (got.priority, got.lat, got.lon) == (2, 60.17, 24.94)
    assert got.reported_at == datetime(2026, 11, 28, 11, 59, tzinfo=UTC)


@pytest.mark.parametrize(
    ("obj", "field"),
    [
        ([1, 2], "incident"),
        ({"type": "arson", "lat": 1, "lon": 1}, "type"),
        ({"type": "assault", "lon": 1}, "lat"),
        ({"type": "assault", "lat": 91, "lon": 1}, "lat"),
        ({"type": "assault", "lat": "north", "lon": 1}, "lat"),
        ({"type": "assault", "lat": 1, "lon": float("nan")}, "lon"),
        ({"type": "assault", "lat": 1, "lon": 1, "priority": 5}, "priority"),
        ({"type": "assault", "lat": 1, "lon": 1, "priority": "urgent"}, "priority"),
        ({"type": "assault", "lat": 1, "lon": 1, "priority": True}, "priority"),
        ({"type": "assault", "lat": 1, "lon": 1, "reported_at": "yesterday"}, "reported_at"),
        (
            {"type": "assault", "lat": 1, "lon": 1, "reported_at": "2026-11-29T12:00:00+00:00"},
            "reported_at",
        ),
        ({"type": "assault", "lat": 1, "lon": 1, "notes": 5}, "notes"),
        ({"type": "assault", "lat": 1, "lon": 1, "notes": "a\x00b"}, "notes"),
        ({"type": "assault", "lat": 1, "lon": 1, "external_id": ""}, "external_id"),
    ],
)
def test_refusals_name_the_field(obj, field):
    with pytest.raises(IntakeError) as info:
        parse_incident(obj, TYPES, NOW)
    assert info.value.field == field
