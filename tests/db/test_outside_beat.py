"""The "outside beat" alarm against real PostGIS: an available unit outside
its home beat past the grace period is alarmed, in the event log too; back
inside, or sent to an incident, the alarm clears."""

import json
from datetime import UTC, datetime, timedelta

from feeds.pipeline import Limits, Message, Pipeline
from feeds.topics import Topics
from feeds.writer import Writer, ingest_batch
from geo.intake import NewIncident
from store import alarms as alarm_store
from usecases import alarms
from usecases import incidents as inc

T0 = datetime.now(UTC).replace(microsecond=0)
GRACE_S = 300.0
LIMITS = alarms.Thresholds(outside_beat_s=GRACE_S)
# C-01 (U001, device trk-c01) patrols beat B1; B2 is its neighbour to the east.
IN_B1 = (24.93688, 60.16716)
IN_B2 = (24.94182, 60.16750)


def place(conn, where: tuple[float, float], at: datetime) -> None:
    body = json.dumps({"lat": where[1], "lon": where[0], "ts": at.isoformat()}).encode()
    with conn.transaction():
        _, result = ingest_batch(
            conn, Pipeline(Topics(), Limits()), Writer(), [Message("dm/gps/trk-c01", body, at)]
        )
    assert result.positions == 1, "the fix was refused"


def outside_alarms(conn) -> list[str]:
    with conn.transaction():
        return [a["unit_id"] for a in alarm_store.open_alarms(conn) if a["kind"] == "outside_beat"]


def evaluate(conn, at: datetime) -> tuple[int, int]:
    with conn.transaction():
        return alarms.evaluate(conn, at, LIMITS)


def alarm_events(conn) -> list[tuple[str, str]]:
    rows = conn.execute(
        "SELECT kind, data->>'alarm' FROM events WHERE unit_id = 'U001' ORDER BY id"
    ).fetchall()
    return [(k, a) for k, a in rows if a == "outside_beat"]


def test_a_unit_inside_its_beat_is_not_alarmed(conn):
    place(conn, IN_B1, T0 - timedelta(seconds=600))
    place(conn, IN_B1, T0)
    evaluate(conn, T0 + timedelta(seconds=5))
    assert outside_alarms(conn) == []


def test_outside_past_the_grace_raises_and_back_inside_clears(conn):
    place(conn, IN_B1, T0 - timedelta(seconds=600))
    place(conn, IN_B2, T0 - timedelta(seconds=200))
    place(conn, IN_B2, T0)
    evaluate(conn, T0 + timedelta(seconds=5))  # outside for 205 s: within the grace
    assert outside_alarms(conn) == []

    assert evaluate(conn, T0 + timedelta(seconds=110)) == (1, 0)  # 310 s outside
    assert outside_alarms(conn) == ["U001"]
    evaluate(conn, T0 + timedelta(seconds=111))  # raised once, not again
    assert len(outside_alarms(conn)) == 1

    place(conn, IN_B1, T0 + timedelta(seconds=300))
    assert evaluate(conn, T0 + timedelta(seconds=301)) == (0, 1)
    assert outside_alarms(conn) == []
    assert alarm_events(conn) == [
        ("alarm_raised", "outside_beat"),
        ("alarm_cleared", "outside_beat"),
    ]


def test_a_brief_visit_inside_restarts_the_grace(conn):
    place(conn, IN_B2, T0 - timedelta(seconds=900))
    place(conn, IN_B1, T0 - timedelta(seconds=250))  # back home for a moment
    place(conn, IN_B2, T0 - timedelta(seconds=100))
    place(conn, IN_B2, T0)
    evaluate(conn, T0)
    assert outside_alarms(conn) == []


def test_a_unit_on_an_incident_may_leave_its_beat(conn):
    place(conn, IN_B1, T0 - timedelta(seconds=900))
    place(conn, IN_B2, T0 - timedelta(seconds=600))
    place(conn, IN_B2, T0 - timedelta(seconds=10))
    evaluate(conn, T0)
    assert outside_alarms(conn) == ["U001"]
    with conn.transaction():
        incident_id = inc.create_incident(
            conn, NewIncident("assault", 1, *IN_B2, T0, "", None), "desk:alice", "desk", T0
        )
        assert incident_id is not None
        orders, refused = inc.dispatch_units(
            conn, incident_id, [inc.Pick("U001")], "desk:alice", T0
        )
    assert orders and not refused
    evaluate(conn, T0 + timedelta(seconds=1))  # dispatched: cleared
    assert outside_alarms(conn) == []
    place(conn, IN_B2, T0 + timedelta(seconds=400))
    evaluate(conn, T0 + timedelta(seconds=401))  # still on the incident
    assert outside_alarms(conn) == []


def test_a_grace_of_zero_turns_the_alarm_off(conn):
    place(conn, IN_B2, T0 - timedelta(seconds=900))
    place(conn, IN_B2, T0)
    with conn.transaction():
        alarms.evaluate(conn, T0, alarms.Thresholds(outside_beat_s=0))
    assert outside_alarms(conn) == []
