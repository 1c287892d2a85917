import json
from datetime import UTC, datetime

from feeds.crews import Calls
from feeds.topics import Topics
from geo.intake import parse_incident

NOW = datetime(2026, 11, 28, 2, 10, tzinfo=UTC)
TYPES = {
    "disturbance": 3,
    "theft_in_progress": 1,
    "traffic_accident": 2,
    "assault": 1,
    "missing_person": 2,
    "fire_assist": 2,
    "other": 4,
}


def test_simulated_110_calls_come_at_the_rate_and_are_valid_incidents():
    sent: list[tuple[str, bytes]] = []
    calls = Calls([(24.94, 60.17), (24.95, 60.16)], Topics("dm"), 3, per_hour=60)
    for _ in range(3600):  # one simulated hour in 1 s steps
        calls.tick(1.0, NOW, lambda t, p: sent.append((t, p)))
    assert 40 <= len(sent) <= 80
    ids = set()
    for topic, payload in sent:
        assert topic == "dm/incidents"
        new = parse_incident(json.loads(payload), TYPES, NOW)
        ids.add(new.external_id)
    assert len(ids) == len(sent)
