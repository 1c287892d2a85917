"""An alarm is taken by a person: the desk's Take button is posted to the
real server (Flask test client, real database) as a page would post it, and
who took it and when is read back from the alarm, the event log, the wall's
strip and the report's timeline. It stays open until its cause ends."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from psycopg.rows import dict_row

from dashboard import report_text, views
from store import alarms as alarm_store
from tests.dash_calls import call_body, callback_key
from usecases import access, alarms

PASSWORD = "a long test password"


def take(app, client, alarm_id):
    body = call_body(app, callback_key(app, "alarm-take"), {})
    button = {"id": {"type": "alarm-take", "alarm": alarm_id}, "property": "n_clicks", "value": 1}
    fired = json.dumps(button["id"], separators=(",", ":")) + ".n_clicks"
    answer = client.post(
        "/_dash-update-component",
        json={**body, "inputs": [[button]], "changedPropIds": [fired]},
        headers={"Origin": "http://localhost"},
    )
    return answer.status_code, (answer.get_json() or {}).get("response", {})


def signed_in(app, conn, name, role):
    access.add_user(conn, name, role, PASSWORD)
    conn.commit()
    client = app.server.test_client()
    assert client.post("/login", data={"name": name, "password": PASSWORD}).status_code == 303
    return client


def test_an_emergency_is_taken_once_logged_and_stays_open_until_it_ends(app, conn):
    now = datetime.now(UTC)
    with conn.transaction():
        alarms.emergency(conn, "U001", "radio-1", True, now)
    (alarm,) = alarm_store.open_alarms(conn)
    assert alarm["taken_by"] is None
    wall = signed_in(app, conn, "w", "wall")
    status, _ = take(app, wall, alarm["id"])
    assert status == 403  # taking needs the dispatch right
    dana = signed_in(app, conn, "dana", "dispatcher")
    status, response = take(app, dana, alarm["id"])
    assert status == 200
    assert response["desk-message"]["children"] == "Alarm taken by desk:dana."
    status, response = take(app, dana, alarm["id"])
    assert response["desk-message"]["children"] == "That alarm was taken already or has ended."
    for forged in (alarm["id"] + 100, 2**62):
        assert take(app, dana, forged)[1]["desk-message"]["children"].startswith("That alarm")
    assert take(app, dana, "1")[0] == 400
    (still,) = alarm_store.open_alarms(conn)  # taken, still open: its cause has not ended
    assert still["taken_by"] == "desk:dana" and still["taken_at"] is not None
    strip = views.wall_alarms([still], [], now, 60, 600, "zh")
    assert strip[0]["text"] == "紧急求助 · desk:dana 已接" and not strip[0]["fresh"]
    with conn.transaction():
        alarms.emergency(conn, "U001", "radio-1", False, now)
    assert alarm_store.open_alarms(conn) == []
    rows = conn.execute(
        "SELECT kind, actor, data FROM events WHERE kind LIKE 'alarm%%' ORDER BY id"
    ).fetchall()
    assert [(k, a) for k, a, _ in rows] == [
        ("alarm_raised", "system"),
        ("alarm_taken", "desk:dana"),
        ("alarm_cleared", "device:radio-1"),
    ]
    assert rows[1][2] == {"alarm": "emergency", "severity": 1, "alarm_id": alarm["id"]}
    with conn.cursor(row_factory=dict_row) as cur:
        events = cur.execute("SELECT at, kind, actor, unit_id, data FROM events ORDER BY id")
        rows = report_text.timeline_rows(events.fetchall(), ZoneInfo("Europe/Helsinki"), {}, "zh")
    assert "告警已接: 紧急求助" in [r[1] for r in rows]
