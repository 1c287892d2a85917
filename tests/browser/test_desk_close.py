"""Closing from the desk in a real Chromium: refused next to its field until
a disposition is chosen and a result written, then closed, and the event log
holds both."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg

from dashboard import ids
from geo.intake import NewIncident
from usecases import incidents as inc


def test_a_commander_closes_with_a_disposition_and_a_result(
    page, sign_in, dashboard_url, db_url, artifacts
):
    now = datetime.now(UTC)
    with psycopg.connect(db_url) as conn, conn.transaction():
        new = NewIncident("assault", 1, 24.9452, 60.1690, now, "", None)
        incident_id = inc.create_incident(conn, new, "110", "110", now)
    sign_in(page, "commander")
    page.wait_for_url(f"{dashboard_url}/desk")
    page.get_by_role("button", name=f"#{incident_id}").click()
    page.locator(f"#{ids.DESK_DETAILS}").get_by_text(f"#{incident_id}").first.wait_for()
    page.click(f"#{ids.DESK_CLOSE}")
    page.locator(f"#{ids.DESK_DISPOSITION_ERROR}").get_by_text(
        "choose how the incident ended"
    ).wait_for()
    page.get_by_text("Not closed: see the marked field.").wait_for()
    page.click(f"#{ids.DESK_DISPOSITION}")
    page.get_by_text("arrest", exact=True).click()
    page.click(f"#{ids.DESK_CLOSE}")
    page.locator(f"#{ids.DESK_RESULT_ERROR}").get_by_text("write the result").wait_for()
    page.fill(f"#{ids.DESK_RESULT}", "two held, taken to the station")
    page.click(f"#{ids.DESK_CLOSE}")
    page.get_by_text(f"Incident #{incident_id} closed.").wait_for()
    assert page.locator(f"#{ids.DESK_DISPOSITION_ERROR}").inner_text() == ""
    page.screenshot(path=str(artifacts / "desk-closed.png"))
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT status, disposition, result FROM incidents WHERE id = %s", (incident_id,)
        ).fetchone()
        (data,) = conn.execute(
            "SELECT data FROM events WHERE kind = 'closed' AND incident_id = %s", (incident_id,)
        ).fetchone()
    assert row == ("closed", "arrest", "two held, taken to the station")
    assert (data["disposition"], data["result"]) == ("arrest", "two held, taken to the station")
