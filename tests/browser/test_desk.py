"""The desk in a real Chromium: a dispatcher signs in, creates an incident by
clicking the map, dispatches the first suggestion and sees the terminal's
acknowledgement arrive; a wall user is refused by the server."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import psycopg

from tests.conftest import wait_until
from tests.helpers import (
    Inbox,
    http_status,
    publish_all,
    publisher,
    running_dispatcher,
    running_ingest,
)
from usecases import access


def test_dispatcher_creates_dispatches_and_sees_the_acknowledgement(
    page, sign_in, dashboard_url, db_url, mqtt_hostport, topics, artifacts
):
    host, port = mqtt_hostport
    orders = Inbox(host, port, topics.orders("+"))
    now = datetime.now(UTC).replace(microsecond=0)
    try:
        with (
            running_ingest(db_url, host, port, topics),
            running_dispatcher(db_url, host, port, topics),
            publisher(host, port) as pub,
        ):
            publish_all(
                pub,
                [
                    (
                        topics.gps("trk-c01"),
                        json.dumps(
                            {
                                "lat": 60.1690,
                                "lon": 24.9440,
                                "ts": (now - timedelta(seconds=2)).isoformat(),
                            }
                        ).encode(),
                    )
                ],
            )
            sign_in(page, "dispatcher")
            page.wait_for_url(f"{dashboard_url}/desk")
            page.locator(".leaflet-roads-pane canvas").wait_for(timeout=20000)
            # Refused first: no type chosen, the message stands next to the field.
            page.click("#new-create")
            page.locator("#new-type-error").get_by_text("must be one of").wait_for(timeout=30000)
            page.locator("#desk-map").click(position={"x": 400, "y": 300})
            wait_until(lambda: page.input_value("#new-lat") != "", 10, message="map click")
            page.click("#new-type")
            page.get_by_text("Assault · 殴打").click()
            page.click("#new-create")
            page.get_by_text("created.").wait_for(timeout=10000)
            page.get_by_role("button", name="Dispatch").first.wait_for(timeout=20000)
            page.screenshot(path=str(artifacts / "desk.png"))
            page.get_by_role("button", name="Dispatch").first.click()
            page.get_by_text("waiting for 签收").wait_for(timeout=30000)
            wait_until(lambda: orders.messages, 15, message="the order on the unit's topic")
            topic, payload = orders.messages[0]
            order = json.loads(payload)
            publish_all(
                pub,
                [
                    (
                        topics.acks(topic.rsplit("/", 1)[1]),
                        json.dumps(
                            {
                                "order_id": order["order_id"],
                                "ts": datetime.now(UTC).isoformat(),
                                "state": "ack",
                            }
                        ).encode(),
                    )
                ],
            )
            page.locator("#desk-orders").get_by_text("acknowledged").wait_for(timeout=15000)
            page.screenshot(path=str(artifacts / "desk-acknowledged.png"))
    finally:
        orders.close()
    with psycopg.connect(db_url) as conn:
        kinds = [k for (k,) in conn.execute("SELECT kind FROM events ORDER BY id")]
    assert kinds[:5] == [
        "created",
        "suggestions_shown",
        "dispatched",
        "order_published",
        "acknowledged",
    ]


def _post_callback(url: str, cookie: str, body: dict) -> int:
    request = urllib.request.Request(
        f"{url}/_dash-update-component",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Cookie": cookie, "Origin": url},
    )
    return http_status(request)


def test_a_wall_user_cannot_dispatch_the_server_refuses(page, dashboard_url, db_url):
    with psycopg.connect(db_url) as conn:
        access.add_user(conn, "screen", "wall", "a long test password")
        token, _ = access.login(
            conn, "screen", "a long test password", datetime.now(UTC), timedelta(hours=1)
        )
    with urllib.request.urlopen(f"{dashboard_url}/_dash-dependencies", timeout=10) as listing:
        callbacks = json.load(listing)
    override = next(c for c in callbacks if c["inputs"][0]["id"] == "desk-override")
    body = {
        "output": override["output"],  # the real callback: the server refuses the right
        "outputs": {"id": "desk-message", "property": "children"},
        "inputs": [{"id": "desk-override", "property": "n_clicks", "value": 1}],
        "state": [
            {"id": "desk-override-unit", "property": "value", "value": "U001"},
            {
                "id": "desk-shown",
                "property": "data",
                "value": {"incident_id": 1, "ranked": [], "shortfall": None},
            },
        ],
        "changedPropIds": ["desk-override.n_clicks"],
    }
    assert _post_callback(dashboard_url, f"dm_session={token}", body) == 403
    assert _post_callback(dashboard_url, "", body) == 403
    page.goto(f"{dashboard_url}/desk")  # a browser without a session is sent to sign in
    page.wait_for_url(f"{dashboard_url}/login?next=/desk")
    with psycopg.connect(db_url) as conn:
        refused = conn.execute("SELECT actor, action FROM audit_log WHERE NOT ok ORDER BY id")
        assert refused.fetchall() == [("screen", "override"), ("anonymous", "override")]
        assert conn.execute("SELECT count(*) FROM orders").fetchone() == (0,)


def test_cross_site_posts_are_refused(dashboard_url):
    request = urllib.request.Request(
        f"{dashboard_url}/login",
        data=b"name=a&password=b",
        method="POST",
        headers={"Origin": "http://evil.example"},
    )
    assert http_status(request) == 403
