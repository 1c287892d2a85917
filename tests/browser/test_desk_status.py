"""A unit's status by hand in a real Chromium: refused without a reason,
then set, and the unit list shows the status, what for and since when."""

from __future__ import annotations

import psycopg

from dashboard import ids


def test_a_dispatcher_sets_a_unit_to_meal_and_the_list_shows_it(
    page, sign_in, dashboard_url, db_url, artifacts
):
    sign_in(page, "dispatcher")
    page.wait_for_url(f"{dashboard_url}/desk")
    page.locator(f"#{ids.DESK_UNIT_LIST}").get_by_role("button", name="C-01").wait_for()
    page.click(f"#{ids.DESK_STATUS_UNIT}")
    page.get_by_role("option", name="C-01", exact=False).first.click()
    page.click(f"#{ids.DESK_STATUS_VALUE}")
    page.get_by_role("option", name="busy", exact=True).click()
    page.click(f"#{ids.DESK_STATUS_SET}")
    page.locator(f"#{ids.DESK_STATUS_REASON_ERROR}").get_by_text("say what for").wait_for()
    page.click(f"#{ids.DESK_STATUS_VALUE}")
    page.get_by_role("option", name="meal", exact=True).click()
    page.click(f"#{ids.DESK_STATUS_SET}")
    page.get_by_text("Status of U001: busy.").wait_for()
    row = page.locator(f"#{ids.DESK_UNIT_LIST} tr", has_text="C-01").first
    row.get_by_text("busy · meal · since").wait_for()
    page.screenshot(path=str(artifacts / "desk-status.png"))
    with psycopg.connect(db_url) as conn:
        unit = conn.execute("SELECT status, status_reason FROM units WHERE id = 'U001'")
        assert unit.fetchone() == ("busy", "meal")
        logged = conn.execute("SELECT actor, data->>'reason' FROM events WHERE kind = 'busy'")
        assert logged.fetchall() == [("desk:dispatcher1", "meal")]
