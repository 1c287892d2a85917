"""The whole loop through the real broker and database: incident in ->
suggestions -> dispatch -> order on the unit's topic -> ack -> en route ->
arrival from positions -> cleared, every step in the event log, the
intervals computed; plus the emergency button and a refused incident."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from store import alarms as alarm_store
from store import incidents as incident_store
from tests.conftest import wait_until
from tests.helpers import Inbox, publish_all, publisher, running_dispatcher, running_ingest
from usecases import incidents as inc
from usecases import shown_sets

SCENE = (24.9452, 60.1690)


def fix(lon: float, lat: float, at: datetime) -> bytes:
    return json.dumps({"lat": lat, "lon": lon, "ts": at.isoformat(), "speed_kmh": 20}).encode()


def one(db_url: str, query: str, *params):
    with psycopg.connect(db_url) as conn:
        return conn.execute(query, params).fetchone()


def test_incident_to_cleared_through_broker_and_database(db_url, mqtt_hostport, topics):
    host, port = mqtt_hostport
    t0 = datetime.now(UTC).replace(microsecond=0)
    orders = Inbox(host, port, topics.orders("+"))
    try:
        with (
            running_ingest(db_url, host, port, topics),
            running_dispatcher(db_url, host, port, topics, ack_s=3600),
            publisher(host, port) as pub,
        ):
            publish_all(
                pub,
                [
                    (topics.gps("trk-c01"), fix(24.9460, 60.1700, t0 - timedelta(seconds=60))),
                    (
                        topics.incidents(),
                        json.dumps(
                            {
                                "external_id": "110-4711",
                                "type": "assault",
                                "priority": 1,
                                "lat": SCENE[1],
                                "lon": SCENE[0],
                                "notes": "fight",
                            }
                        ).encode(),
                    ),
                    (topics.incidents(), b'{"type": "assault", "lat": 95, "lon": 1}'),
                ],
            )
            incident_id = wait_until(lambda: one(db_url, "SELECT id FROM incidents"), 10)[0]
            wait_until(lambda: one(db_url, "SELECT 1 FROM unit_latest WHERE unit_id = 'U001'"))
            with psycopg.connect(db_url) as conn, conn.transaction():
                now = datetime.now(UTC)
                row, shown = inc.suggestions_for(
                    conn, inc.load_router(conn), incident_id, inc.rules_for(conn, 300), now
                )
                alice = shown_sets.Viewer("desk:alice")
                set_id = shown_sets.record_shown(conn, row, shown, alice, now)
                first = shown.ranked[0]
                assert first.unit_id == "U001"
                shown_sets.dispatch_shown(
                    conn, set_id, ["U001"], alice, now, max_age_s=120, may_override=False
                )
            wait_until(lambda: orders.messages, 10, message="the order on dm/orders/U001")
            topic, payload = orders.messages[0]
            order = json.loads(payload)
            assert topic == topics.orders("U001") and order["incident_id"] == incident_id
            assert order["eta_s"] == pytest.approx(first.eta_s, rel=1e-6)  # stored as real
            assert order["lat"] == SCENE[1]

            def ack(state: str) -> None:
                body = {
                    "order_id": order["order_id"],
                    "ts": datetime.now(UTC).isoformat(),
                    "state": state,
                }
                publish_all(pub, [(topics.acks("U001"), json.dumps(body).encode())])

            ack("ack")
            ack("enroute")
            wait_until(lambda: one(db_url, "SELECT 1 FROM units WHERE status = 'enroute'"))
            publish_all(
                pub, [(topics.gps("trk-c01"), fix(SCENE[0] + 0.0002, SCENE[1], datetime.now(UTC)))]
            )
            wait_until(
                lambda: one(db_url, "SELECT 1 FROM units WHERE status = 'onscene'"),
                10,
                message="arrival detected from the position",
            )
            ack("clear")
            wait_until(
                lambda: one(
                    db_url, "SELECT 1 FROM units WHERE id = 'U001' AND status = 'available'"
                )
            )
            # The emergency button raises the highest alarm at once.
            publish_all(
                pub,
                [
                    (
                        topics.status("2620102"),
                        json.dumps(
                            {"ts": datetime.now(UTC).isoformat(), "emergency": True}
                        ).encode(),
                    )
                ],
            )
            wait_until(
                lambda: one(
                    db_url,
                    "SELECT unit_id, severity FROM alarms "
                    "WHERE kind = 'emergency' AND cleared_at IS NULL",
                )
            )
    finally:
        orders.close()
    with psycopg.connect(db_url) as conn:
        kinds = [e["kind"] for e in incident_store.incident_events(conn, incident_id)]
        clock = conn.execute(
            "SELECT first_dispatched_at IS NOT NULL, first_acknowledged_at "
            ">= first_dispatched_at, first_onscene_at > first_enroute_at, "
            "last_cleared_at > first_onscene_at FROM incident_clock "
            "WHERE incident_id = %s",
            (incident_id,),
        ).fetchone()
        refused = conn.execute("SELECT reason, detail FROM quarantine").fetchall()
        emergency = [
            (a["unit_id"], a["severity"])
            for a in alarm_store.open_alarms(conn)
            if a["kind"] == "emergency"
        ]
    assert kinds == [
        "created",
        "suggestions_shown",
        "dispatched",
        "order_published",
        "acknowledged",
        "enroute",
        "onscene",
        "cleared",
    ]
    assert clock == (True, True, True, True)
    assert refused == [("bad_incident", "lat: must be between -90 and 90")]
    assert emergency == [("U002", 1)]


def test_unacknowledged_order_raises_an_alarm_and_the_ack_clears_it(db_url, mqtt_hostport, topics):
    host, port = mqtt_hostport
    with psycopg.connect(db_url) as conn, conn.transaction():
        from geo.intake import NewIncident

        now = datetime.now(UTC)
        incident_id = inc.create_incident(
            conn, NewIncident("disturbance", 3, *SCENE, now, "", None), "desk", "desk", now
        )
        assert incident_id is not None
        (order,), _ = inc.dispatch_units(conn, incident_id, [inc.Pick("U005")], "desk", now)
    with running_dispatcher(db_url, host, port, topics, ack_s=0.5), publisher(host, port) as pub:
        wait_until(
            lambda: one(
                db_url, "SELECT 1 FROM alarms WHERE kind = 'unacknowledged' AND cleared_at IS NULL"
            ),
            10,
        )
        publish_all(
            pub,
            [
                (
                    topics.acks("U005"),
                    json.dumps(
                        {"order_id": order.id, "ts": datetime.now(UTC).isoformat(), "state": "ack"}
                    ).encode(),
                )
            ],
        )
        wait_until(
            lambda: one(
                db_url,
                "SELECT 1 FROM alarms WHERE kind = 'unacknowledged' AND cleared_at IS NOT NULL",
            ),
            10,
        )


def test_response_clock_command_exports_csv(db_url, tmp_path):
    import os
    import subprocess
    import sys

    from geo.intake import NewIncident

    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    with psycopg.connect(db_url) as conn, conn.transaction():
        incident_id = inc.create_incident(
            conn, NewIncident("assault", 1, *SCENE, t0, "", None), "desk", "desk", t0
        )
        (_order,), _ = inc.dispatch_units(
            conn, incident_id, [inc.Pick("U001")], "desk", t0 + timedelta(seconds=20)
        )
        for action, s in [("ack", 35), ("enroute", 50), ("onscene", 200)]:
            inc.apply_action(conn, "U001", action, "unit", t0 + timedelta(seconds=s))
    out = tmp_path / "clock.csv"
    done = subprocess.run(
        [sys.executable, "-m", "dispatchmap.cli", "response-clock", "--csv", str(out)],
        env={**os.environ, "DATABASE_URL": db_url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "ack_within_30s                   1.000" in done.stdout
    assert "p1p2_reached_within_5min         1.000" in done.stdout
    row = out.read_text().splitlines()[1].split(",")
    assert row[:3] == [str(incident_id), "assault", "1"]
    assert row[-6:-1] == ["20.0", "15.0", "30.0", "150.0", "200.0"]


def test_an_order_whose_incident_closed_before_publication_is_withdrawn(
    db_url, mqtt_hostport, topics
):
    """Two orders wait in the outbox; one incident is closed before the
    worker runs. Only the open incident's order reaches a terminal (orders are
    published oldest first on one connection, so the withdrawn one, older,
    would have arrived first); the other is cancelled and its unit freed."""
    from geo.intake import NewIncident

    host, port = mqtt_hostport
    now = datetime.now(UTC)
    with psycopg.connect(db_url) as conn, conn.transaction():
        closed, still_open = (
            inc.create_incident(conn, NewIncident(k, 3, *SCENE, now, "", None), "desk", "desk", now)
            for k in ("disturbance", "assault")
        )
        (withdrawn,), _ = inc.dispatch_units(conn, closed, [inc.Pick("U005")], "desk", now)
        later = now + timedelta(seconds=1)
        inc.dispatch_units(conn, still_open, [inc.Pick("U006")], "desk", later)
        assert inc.close_incident(conn, closed, "desk:bob", later)
    orders = Inbox(host, port, topics.orders("+"))
    try:
        with running_dispatcher(db_url, host, port, topics):
            wait_until(lambda: orders.messages, 10, message="the open incident's order")
            wait_until(lambda: one(db_url, "SELECT 1 FROM orders WHERE state = 'cancelled'"), 10)
    finally:
        orders.close()
    assert [topic for topic, _ in orders.messages] == [topics.orders("U006")]
    assert one(db_url, "SELECT state, published_at FROM orders WHERE id = %s", withdrawn.id) == (
        "cancelled",
        None,
    )
    assert one(db_url, "SELECT status FROM units WHERE id = 'U005'") == ("available",)
    event = one(
        db_url,
        "SELECT actor, data->>'source' FROM events WHERE kind = 'cancelled' AND order_id = %s",
        withdrawn.id,
    )
    assert event == ("system", "outbox")
