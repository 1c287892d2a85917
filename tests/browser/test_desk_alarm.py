"""Taking an emergency alarm on the desk in a real Chromium: it sounds (a
WebAudio tone, nothing fetched) until a dispatcher takes it; then the tone
stops and who took it is shown."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg

from dashboard import ids
from tests.conftest import wait_until
from usecases import alarms


def tone(page) -> bool:
    return bool(page.evaluate("() => Boolean(window.dmTone && window.dmTone.playing)"))


def test_an_emergency_sounds_until_a_dispatcher_takes_it(
    page, sign_in, dashboard_url, db_url, artifacts
):
    sign_in(page, "dispatcher")
    page.wait_for_url(f"{dashboard_url}/desk")
    page.locator(f"#{ids.DESK_ALARMS}").get_by_text("No alarms").wait_for()
    assert not tone(page)
    with psycopg.connect(db_url) as conn, conn.transaction():
        alarms.emergency(conn, "U001", "radio-1", True, datetime.now(UTC))
    panel = page.locator(f"#{ids.DESK_ALARMS}")
    take = panel.get_by_role("button", name="Take")
    take.wait_for()
    wait_until(lambda: tone(page), 10, message="the emergency tone")
    assert page.locator(f"#{ids.DESK_TONE_STATE}").inner_text() == "sounding"
    page.screenshot(path=str(artifacts / "desk-alarm.png"))
    take.click()
    page.get_by_text("Alarm taken by desk:dispatcher1.").wait_for()
    panel.get_by_text("taken by desk:dispatcher1").wait_for()
    wait_until(lambda: not tone(page), 10, message="the tone stopped")
    assert panel.get_by_role("button", name="Take").count() == 0
    with psycopg.connect(db_url) as conn:
        taken = conn.execute("SELECT taken_by, cleared_at FROM alarms").fetchall()
        logged = conn.execute("SELECT actor FROM events WHERE kind = 'alarm_taken'").fetchall()
    assert taken == [("desk:dispatcher1", None)] and logged == [("desk:dispatcher1",)]
