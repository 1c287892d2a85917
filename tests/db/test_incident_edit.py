"""The desk changes an incident (posted to the real server as the page
posts it): the change is logged with before and after, the version moves,
the units on it get their order again, and bad or forged values change
nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from geo.intake import NewIncident
from store import incidents as incident_store
from tests.dash_calls import call_body, callback_key
from usecases import access
from usecases import incidents as inc

PASSWORD = "a long test password"


def edit(app, client, incident_id, **form):
    fields = ("type", "priority", "lat", "lon", "notes")
    values = {"desk-edit-save": 1, "desk-selected": incident_id}
    values |= {f"desk-edit-{f}": form.get(f) for f in fields}
    body = call_body(app, callback_key(app, "desk-edit-save"), values, ["desk-edit-save.n_clicks"])
    answer = client.post(
        "/_dash-update-component", json=body, headers={"Origin": "http://localhost"}
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()["response"]["desk-message"]["children"]


def test_the_desk_changes_an_incident_and_its_units_get_it(app, conn):
    now = datetime.now(UTC)
    with conn.transaction():
        new = NewIncident("assault", 2, 24.9452, 60.1690, now, "shouting", None)
        incident_id = inc.create_incident(conn, new, "110", "110", now)
        inc.dispatch_units(conn, incident_id, [inc.Pick("U001")], "desk:x", now)
        conn.execute("UPDATE orders SET published_at = %s", (now,))
        access.add_user(conn, "dana", "dispatcher", PASSWORD)
    client = app.server.test_client()
    assert client.post("/login", data={"name": "dana", "password": PASSWORD}).status_code == 303
    assert (
        edit(app, client, incident_id, priority="9")
        == "Not changed: Priority must be 1, 2, 3 or 4."
    )
    assert edit(app, client, incident_id, type="nuke").startswith(
        "Not changed: Type must be one of"
    )
    assert edit(app, client, incident_id) == "Nothing to change."
    assert edit(app, client, incident_id, priority="2") == "Nothing to change."  # same value
    assert conn.execute("SELECT version FROM incidents").fetchone() == (1,)
    conn.commit()
    said = edit(app, client, incident_id, priority="1", notes="a knife is seen")
    assert said == f"Incident #{incident_id} changed; the units on it are told."
    row = incident_store.incident(conn, incident_id)
    assert (row["priority"], row["notes"], row["version"]) == (1, "a knife is seen", 2)
    (updated,) = [
        e for e in incident_store.incident_events(conn, incident_id) if e["kind"] == "updated"
    ]
    assert updated["actor"] == "desk:dana"
    assert updated["data"]["changes"] == {
        "priority": [2, 1],
        "notes": ["shouting", "a knife is seen"],
    }
    assert conn.execute("SELECT published_at FROM orders").fetchone() == (None,)  # sent again
    conn.commit()
    with conn.transaction():
        assert inc.close_incident(conn, incident_id, "desk:x", now)
    assert edit(app, client, incident_id, priority="3") == (
        f"Not changed: incident #{incident_id} is closed or unknown."
    )
