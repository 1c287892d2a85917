"""The desk while units drive: the suggestion rows (with their Dispatch
buttons) stay drawn while the figures move in place, so a click is never
held back behind a redraw and lost; the click sends the unit."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import psycopg

from geo.intake import NewIncident
from tests.conftest import wait_until
from tests.helpers import publish_all, publisher, running_ingest
from usecases import incidents as inc

SCENE = (24.9452, 60.1690)
# C-01 drives north up this street towards the scene, one fix a second;
# C-02 waits further away, so the order of the two never changes.
START_LAT, STEP_DEG = 60.1640, 0.00008  # about 9 m a second


def test_figures_move_in_place_and_a_click_sends_the_unit(
    page, sign_in, dashboard_url, db_url, mqtt_hostport, topics
):
    host, port = mqtt_hostport
    redraws: list[int] = []
    page.on(
        "response",
        lambda r: (
            redraws.append(1)
            if r.url.split("?")[0].endswith("/_dash-update-component")
            and r.status == 200
            and '"desk-suggestions"' in (r.text() or "")
            else None
        ),
    )
    stop = threading.Event()
    with running_ingest(db_url, host, port, topics), publisher(host, port) as pub:

        def drive() -> None:
            step = 0
            while not stop.wait(1.0):
                now = datetime.now(UTC).isoformat()
                fixes = [
                    (topics.gps("trk-c01"), {"lat": START_LAT + step * STEP_DEG, "lon": 24.9440}),
                    (topics.gps("trk-c02"), {"lat": 60.1500, "lon": 24.9440}),
                ]
                body = [(t, json.dumps({**f, "ts": now}).encode()) for t, f in fixes]
                publish_all(pub, body)
                step += 1

        driver = threading.Thread(target=drive, daemon=True)
        driver.start()
        try:
            with psycopg.connect(db_url) as conn:
                now = datetime.now(UTC)
                new = NewIncident("assault", 1, *SCENE, now, "moving units", None)
                incident_id = inc.create_incident(conn, new, "110", "110", now)
            sign_in(page, "dispatcher")
            page.get_by_role("button", name=f"#{incident_id}").click()
            first_eta = page.locator('[id*="U001|eta"]')
            first_eta.wait_for(timeout=20000)
            page.locator('[id*="U002|eta"]').wait_for(timeout=20000)  # both ranked now
            drawn = len(redraws)
            seen = {first_eta.inner_text()}
            wait_until(
                lambda: seen.add(first_eta.inner_text()) or len(seen) >= 3,
                40,
                message="C-01's ETA moving on the desk",
            )
            # Its ETA moved at least twice; the rows were not drawn again.
            assert len(redraws) == drawn, "the suggestion rows were redrawn while units drove"
            page.get_by_role("button", name="Dispatch").first.click()
            page.get_by_text("waiting for 签收").wait_for(timeout=10000)
        finally:
            stop.set()
            driver.join(5)
    with psycopg.connect(db_url) as conn:
        sent = conn.execute("SELECT unit_id, suggested_rank FROM orders").fetchall()
    assert sent == [("U001", 1)]
