"""A 110 message with an external id already known updates the incident
(every version kept in the event log) and reaches the unit on it through the
real broker as its order again: same order id, the incident as it is now."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import psycopg

from store import incidents as incident_store
from tests.conftest import wait_until
from tests.helpers import Inbox, publish_all, publisher, running_dispatcher
from usecases import incidents as inc

SCENE = (24.9452, 60.1690)


def call(**fields):
    body = {"external_id": "110-5150", "type": "assault", "lat": SCENE[1], "lon": SCENE[0]}
    return json.dumps({**body, **fields}).encode()


def test_an_updated_110_call_changes_the_incident_and_reaches_its_unit(
    db_url, mqtt_hostport, topics
):
    host, port = mqtt_hostport
    orders = Inbox(host, port, topics.orders("+"))
    try:
        with (
            running_dispatcher(db_url, host, port, topics, ack_s=3600),
            publisher(host, port) as pub,
        ):
            publish_all(pub, [(topics.incidents(), call(priority=2, notes="shouting"))])

            def stored():
                with psycopg.connect(db_url) as conn:
                    return conn.execute("SELECT id FROM incidents").fetchone()

            (incident_id,) = wait_until(stored, 10, message="the 110 call stored")
            with psycopg.connect(db_url) as conn, conn.transaction():
                now = datetime.now(UTC)
                inc.dispatch_units(conn, incident_id, [inc.Pick("U001")], "desk:x", now)
            wait_until(lambda: orders.messages, 10, message="the order")
            first = json.loads(orders.messages[0][1])
            assert (first["priority"], first["notes"]) == (2, "shouting")
            update = call(priority=1, notes="a knife is seen", lat=60.1695)
            publish_all(pub, [(topics.incidents(), update)])
            wait_until(lambda: len(orders.messages) == 2, 10, message="the order update")
    finally:
        orders.close()
    topic, payload = orders.messages[1]
    again = json.loads(payload)
    assert topic == topics.orders("U001") and again["order_id"] == first["order_id"]
    assert (again["priority"], again["notes"], again["lat"]) == (1, "a knife is seen", 60.1695)
    assert again["version"] > first["version"]
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT count(*) FROM incidents").fetchone() == (1,)
        events = incident_store.incident_events(conn, incident_id)
    (updated,) = [e for e in events if e["kind"] == "updated"]
    assert updated["actor"] == "110"
    assert updated["data"]["changes"] == {
        "priority": [2, 1],
        "notes": ["shouting", "a knife is seen"],
        "lat": [SCENE[1], 60.1695],
    }
    assert updated["data"]["orders"] == [first["order_id"]]
    published = [e for e in events if e["kind"] == "order_published"]
    assert [e["data"]["version"] for e in published] == [first["version"], again["version"]]
