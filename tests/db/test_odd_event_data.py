"""Stored events whose ``data`` holds odd values (an ETA as text or null, a
missing key, a list where an object belongs, a rank that is not one) are
still read: the incident's PDF report and its replay answer 200 and show "–"
for what they cannot read (real database, the app's routes and callbacks).

The rows are written with plain SQL, as a row written before the writer
checked its values would be (geo/incidents.py now checks them)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from psycopg.types.json import Jsonb

from dashboard import ids
from geo.intake import NewIncident
from tests.dash_calls import call_body, callback_key
from tests.pdftext import pdf_text
from usecases import access
from usecases import incidents as inc

PASSWORD = "a long test password"
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
ODD_RANKED = [
    {"unit_id": "U001", "call_sign": "C-01", "eta_s": "abc"},
    {"unit_id": "U002", "call_sign": "C-02", "eta_s": None},
    {"unit_id": "U003"},  # no ETA, no call sign
    "not an object",
    {"unit_id": ["U004"], "call_sign": 7, "eta_s": True},
    {"unit_id": "U005", "call_sign": "C-05", "eta_s": 90},  # the one good row
]
# (seconds after T0, kind, unit, data): each an odd shape a reader must survive.
ODD_EVENTS = [
    (3, "suggestions_shown", None, {"ranked": "U001"}),
    (4, "suggestions_shown", None, []),
    (5, "suggestions_shown", None, {"ranked": ODD_RANKED, "excluded": [], "shortfall": None}),
    (10, "dispatched", "U001", {"rank": "first", "eta_s": "abc"}),
    (11, "dispatched", "U002", {"rank": None}),
    (20, "alarm_raised", None, "oops"),
    (25, "transition_refused", "U001", {"action": ["x"]}),
    (30, "enroute", "U001", {"to": {"status": "enroute"}}),
]


def insert_event(conn, incident_id: int, seconds: float, kind: str, unit, data: Any) -> None:
    conn.execute(
        "INSERT INTO events (at, kind, actor, incident_id, unit_id, data)"
        " VALUES (%s, %s, 'desk:alice', %s, %s, %s)",
        (T0 + timedelta(seconds=seconds), kind, incident_id, unit, Jsonb(data)),
    )


@pytest.fixture
def odd_incident(conn) -> int:
    with conn.transaction():
        new = NewIncident("assault", 1, 24.9452, 60.1690, T0, "odd log", None)
        incident_id = inc.create_incident(conn, new, "desk:alice", "desk", T0)
        assert incident_id is not None
        for seconds, kind, unit, data in ODD_EVENTS:
            insert_event(conn, incident_id, seconds, kind, unit, data)
    return incident_id


@pytest.fixture
def reviewer(app, conn):
    access.add_user(conn, "rita", "reviewer", PASSWORD)
    conn.commit()
    client = app.server.test_client()
    assert client.post("/login", data={"name": "rita", "password": PASSWORD}).status_code == 303
    return client


def post(client, body):
    return client.post("/_dash-update-component", json=body, headers={"Origin": "http://localhost"})


def test_the_report_of_an_incident_with_odd_event_data_is_drawn(reviewer, odd_incident):
    response = reviewer.get(f"/replay/report.pdf?incident={odd_incident}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    assert "1.5 min" in text  # the one readable ETA
    assert text.count("–") >= 4  # "abc", null, missing, true
    assert "C-01" in text and "C-05" in text


def test_the_replay_of_an_incident_with_odd_event_data_loads_and_plays(app, reviewer, odd_incident):
    choose = callback_key(app, ids.REPLAY_INCIDENT, ids.REPLAY_LOAD, ids.REPLAY_AREA)
    fired = [f"{ids.REPLAY_INCIDENT}.value"]
    chosen = post(reviewer, call_body(app, choose, {ids.REPLAY_INCIDENT: odd_incident}, fired))
    assert chosen.status_code == 200
    window = chosen.json["response"][ids.REPLAY_WINDOW]["data"]
    load = callback_key(app, ids.REPLAY_WINDOW, output=ids.REPLAY_MESSAGE)
    body = call_body(app, load, {ids.REPLAY_WINDOW: window}, [f"{ids.REPLAY_WINDOW}.data"])
    loaded = post(reviewer, body)
    assert loaded.status_code == 200
    timeline = json.dumps(loaded.json["response"][ids.REPLAY_TIMELINE]["children"])
    assert "1.5 min" in timeline and timeline.count("\\u2013") >= 4  # "–", JSON-escaped
    moment = callback_key(app, ids.REPLAY_SLIDER, ids.REPLAY_TRAIL)
    values = {ids.REPLAY_WINDOW: window, ids.REPLAY_SLIDER: 40.0, ids.REPLAY_TRAIL: 5}
    shown = post(reviewer, call_body(app, moment, values, [f"{ids.REPLAY_SLIDER}.value"]))
    assert shown.status_code == 200
