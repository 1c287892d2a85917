"""Clearing needs a disposition and a result: the desk's close is posted to
the real server (Flask test client, real database) as a page would post it,
forged values included, and what it logs is read back from the event log,
the incident row and the PDF report's timeline."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from dashboard import report_text
from geo.intake import NewIncident
from store import incidents as incident_store
from tests.dash_calls import call_body, callback_key
from usecases import access
from usecases import incidents as inc

PASSWORD = "a long test password"


def close(app, client, incident_id, disposition, result):
    values = {
        "desk-close": 1,
        "desk-selected": incident_id,
        "desk-disposition": disposition,
        "desk-result": result,
    }
    body = call_body(app, callback_key(app, "desk-close"), values, ["desk-close.n_clicks"])
    answer = client.post(
        "/_dash-update-component", json=body, headers={"Origin": "http://localhost"}
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    response = answer.get_json()["response"]
    return tuple(
        response[key]["children"]
        for key in ("desk-message", "desk-disposition-error", "desk-result-error")
    )


def test_closing_needs_a_disposition_and_a_result_and_logs_both(app, conn):
    now = datetime.now(UTC)
    with conn.transaction():
        new = NewIncident("assault", 1, 24.9452, 60.1690, now, "", None)
        incident_id = inc.create_incident(conn, new, "desk:boss", "desk", now)
        access.add_user(conn, "boss", "commander", PASSWORD)
    client = app.server.test_client()
    assert client.post("/login", data={"name": "boss", "password": PASSWORD}).status_code == 303
    said, disposition, _ = close(app, client, incident_id, None, "two held")
    assert said == "Not closed: see the marked field."
    assert disposition == "choose how the incident ended"
    assert close(app, client, incident_id, "nuke", "two held")[1] == disposition  # forged
    assert close(app, client, incident_id, "arrest", "  ")[2] == "write the result"
    assert close(app, client, incident_id, "arrest", "x" * 2001)[2].startswith("must be text")
    assert incident_store.incident(conn, incident_id)["status"] == "open"
    conn.commit()
    assert close(app, client, incident_id, "arrest", " two held ") == (
        f"Incident #{incident_id} closed.",
        "",
        "",
    )
    assert close(app, client, incident_id, "no_trace", "again")[0] == "It was closed already."
    row = conn.execute(
        "SELECT status, disposition, result FROM incidents WHERE id = %s", (incident_id,)
    ).fetchone()
    assert row == ("closed", "arrest", "two held")
    events = incident_store.incident_events(conn, incident_id)
    (closed,) = [e for e in events if e["kind"] == "closed"]
    assert closed["actor"] == "desk:boss"
    assert closed["data"] == {
        "disposition": "arrest",
        "name_en": "arrest",
        "name_zh": "抓获",
        "result": "two held",
    }
    tz = ZoneInfo("Europe/Helsinki")
    (zh,) = [r for r in report_text.timeline_rows(events, tz, {}, "zh") if "结案" in r[1]]
    assert zh[1] == "结案: 抓获 — two held"
    (en,) = [r for r in report_text.timeline_rows(events, tz, {}, "en") if "closed" in r[1]]
    assert en[1] == "closed: arrest — two held"
