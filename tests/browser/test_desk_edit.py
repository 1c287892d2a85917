"""Changing an incident from the desk in a real Chromium: the panel shows
the new priority and notes, the change is logged with before and after, and
the unit on it is put back in the outbox to get its order again."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg

from dashboard import ids
from geo.intake import NewIncident
from usecases import incidents as inc


def test_a_dispatcher_changes_priority_and_notes(page, sign_in, dashboard_url, db_url, artifacts):
    now = datetime.now(UTC)
    with psycopg.connect(db_url) as conn, conn.transaction():
        new = NewIncident("assault", 3, 24.9452, 60.1690, now, "shouting", None)
        incident_id = inc.create_incident(conn, new, "110", "110", now)
        inc.dispatch_units(conn, incident_id, [inc.Pick("U001")], "desk:x", now)
        conn.execute("UPDATE orders SET published_at = %s", (now,))
    sign_in(page, "dispatcher")
    page.wait_for_url(f"{dashboard_url}/desk")
    page.get_by_role("button", name=f"#{incident_id}").click()
    details = page.locator(f"#{ids.DESK_DETAILS}")
    details.get_by_text("P3").wait_for()
    page.get_by_text("Change incident").click()
    page.click(f"#{ids.DESK_EDIT_PRIORITY}")
    page.get_by_role("option", name="P1", exact=True).click()
    page.fill(f"#{ids.DESK_EDIT_NOTES}", "a knife is seen")
    page.click(f"#{ids.DESK_EDIT_SAVE}")
    page.get_by_text(f"Incident #{incident_id} changed; the units on it are told.").wait_for()
    details.get_by_text("P1").wait_for()
    details.get_by_text("a knife is seen").wait_for()
    page.screenshot(path=str(artifacts / "desk-edit.png"))
    with psycopg.connect(db_url) as conn:
        (data,) = conn.execute("SELECT data FROM events WHERE kind = 'updated'").fetchone()
        republished = conn.execute("SELECT published_at FROM orders").fetchone()
    assert data["changes"] == {"priority": [3, 1], "notes": ["shouting", "a knife is seen"]}
    assert republished == (None,)
