"""A unit's status by hand, posted to the real server (Flask test client,
real database) as the desk posts it: logged with who and why, kept on the
unit with the time it began, refused while the unit works an order, and a
unit busy too long raises a welfare alarm."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from store import alarms as alarm_store
from store import orders as order_store
from tests.dash_calls import call_body, callback_key
from usecases import access, alarms
from usecases import incidents as inc

PASSWORD = "a long test password"


def set_status(app, client, unit, choice, reason):
    values = {
        "desk-status-set": 1,
        "desk-status-unit": unit,
        "desk-status-value": choice,
        "desk-status-reason": reason,
    }
    key = callback_key(app, "desk-status-set")
    body = call_body(app, key, values, ["desk-status-set.n_clicks"])
    answer = client.post(
        "/_dash-update-component", json=body, headers={"Origin": "http://localhost"}
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    response = answer.get_json()["response"]
    return tuple(
        response[k]["children"]
        for k in ("desk-message", "desk-status-value-error", "desk-status-reason-error")
    )


def test_status_by_hand_is_logged_kept_and_watched(app, conn):
    access.add_user(conn, "dana", "dispatcher", PASSWORD)
    conn.commit()
    client = app.server.test_client()
    assert client.post("/login", data={"name": "dana", "password": PASSWORD}).status_code == 303
    said = set_status(app, client, "U001", "busy", "")
    assert said == ("Not set: see the marked field.", "", "say what for")
    assert set_status(app, client, "U001", "dispatched", "x")[1] == "choose a status"
    assert set_status(app, client, "U999", "busy", "x")[0] == "Not sent: no unit U999."
    assert order_store.unit_statuses(conn)["U001"]["status"] == "available"
    conn.commit()
    before = datetime.now(UTC)
    assert set_status(app, client, "U001", "meal", "canteen") == ("Status of U001: busy.", "", "")
    unit = order_store.unit_statuses(conn)["U001"]
    assert (unit["status"], unit["status_reason"]) == ("busy", "meal: canteen")
    assert unit["status_since"] >= before - timedelta(seconds=1)
    (event,) = conn.execute("SELECT actor, data FROM events WHERE kind = 'busy'").fetchall()
    assert event == (
        "desk:dana",
        {"from": "available", "to": "busy", "source": "desk", "reason": "meal: canteen"},
    )
    # Busy longer than the welfare limit: an alarm names the unit and the reason.
    limits = alarms.Thresholds(welfare_busy_s=2700.0)
    with conn.transaction():
        assert alarms.evaluate(conn, unit["status_since"] + timedelta(seconds=2600), limits) == (
            0,
            0,
        )
        raised, _ = alarms.evaluate(conn, unit["status_since"] + timedelta(seconds=2760), limits)
    assert raised == 1
    (alarm,) = [a for a in alarm_store.open_alarms(conn) if a["kind"] == "welfare"]
    assert (alarm["unit_id"], alarm["detail"]) == ("U001", "busy for 46 min (meal: canteen)")
    conn.commit()
    assert set_status(app, client, "U001", "available", None) == (
        "Status of U001: available.",
        "",
        "",
    )
    with conn.transaction():
        _, cleared = alarms.evaluate(conn, datetime.now(UTC) + timedelta(hours=1), limits)
    assert cleared == 1 and order_store.unit_statuses(conn)["U001"]["status_reason"] is None


def test_a_unit_on_an_order_is_not_moved_by_hand(app, conn):
    now = datetime.now(UTC)
    with conn.transaction():
        from geo.intake import NewIncident

        incident_id = inc.create_incident(
            conn, NewIncident("assault", 1, 24.9452, 60.1690, now, "", None), "110", "110", now
        )
        inc.dispatch_units(conn, incident_id, [inc.Pick("U001")], "desk:x", now)
        access.add_user(conn, "dana", "dispatcher", PASSWORD)
    client = app.server.test_client()
    assert client.post("/login", data={"name": "dana", "password": PASSWORD}).status_code == 303
    said = set_status(app, client, "U001", "off_duty", None)[0]
    assert said == "Not set: off_duty is not allowed when dispatched."
    assert order_store.unit_statuses(conn)["U001"]["status"] == "dispatched"
    refused = conn.execute("SELECT actor FROM events WHERE kind = 'transition_refused'")
    assert refused.fetchall() == [("desk:dana",)]
