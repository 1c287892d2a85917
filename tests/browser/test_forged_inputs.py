"""A forged value sent by a real browser (the replay page's window store set
to seven days from the console) is answered with 400 by the served
dashboard: nothing is loaded, the page keeps what it showed, and the audit
log has one row for it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg

from tests.conftest import wait_until

FORGE = """([start, end]) => window.dash_clientside.set_props("replay-window",
    {data: {start: start, end: end, incident_id: null, area: null}})"""


def test_a_week_long_window_forged_in_the_browser_is_refused(
    browser, dashboard_url, db_url, sign_in
):
    # Its own tab: this test expects the console errors a refused callback logs.
    context = browser.new_context(viewport={"width": 1600, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    errors: list[str] = []
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    answers: list[int] = []
    tab.on(
        "response",
        lambda r: (
            answers.append(r.status)
            if "_dash-update-component" in r.url and "replay-window" in (r.request.post_data or "")
            else None
        ),
    )
    try:
        sign_in(tab, "reviewer", "/replay")
        tab.wait_for_url(f"{dashboard_url}/replay")
        tab.locator(".leaflet-roads-pane canvas").wait_for(timeout=20000)
        start = (datetime.now(UTC) - timedelta(days=7)).replace(microsecond=0)
        tab.evaluate(FORGE, [start.isoformat(), (start + timedelta(days=7)).isoformat()])
        wait_until(lambda: tab.wait_for_timeout(100) or 400 in answers, 15, message="the answer")
        assert tab.inner_text("#replay-time") == "no window"  # nothing loaded
        assert tab.inner_text("#replay-message") == ""
    finally:
        context.close()
    assert set(answers) == {400}, answers
    assert errors and all("400" in e or "Callback error" in e for e in errors), errors
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT actor, detail->>'field', detail->>'problem' FROM audit_log"
            " WHERE action = 'bad_input'"
        ).fetchall()
    assert rows == [("reviewer1", "window", "end: a window is at most 12 h")]
