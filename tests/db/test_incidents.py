"""The dispatch chain in the database: incident -> suggestions -> orders ->
acknowledgement -> en route -> arrival from positions -> cleared -> closed,
every step in the append-only event log."""

import json
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from feeds.pipeline import Limits, Message, Pipeline
from feeds.topics import Topics
from feeds.writer import Writer, ingest_batch
from geo.intake import NewIncident
from store import incidents as incident_store
from usecases import incidents as inc
from usecases import shown_sets

T0 = datetime.now(UTC).replace(microsecond=0)
# A junction of the sample city and two points near it.
SCENE = (24.9452, 60.1690)


def place(conn, device: str, lon: float, lat: float, at: datetime) -> None:
    body = json.dumps({"lat": lat, "lon": lon, "ts": at.isoformat()}).encode()
    with conn.transaction():
        ingest_batch(
            conn, Pipeline(Topics(), Limits()), Writer(), [Message(f"dm/gps/{device}", body, at)]
        )


def new_incident(conn, kind="assault", at=T0) -> int:
    with conn.transaction():
        incident_id = inc.create_incident(
            conn,
            NewIncident(kind, 1, SCENE[0], SCENE[1], at, "two men fighting", None),
            "desk:alice",
            "desk",
            at,
        )
    assert incident_id is not None
    return incident_id


def test_the_whole_chain_is_logged_and_timed(conn):
    place(conn, "trk-c01", 24.9460, 60.1700, T0)  # ~120 m away
    place(conn, "trk-c02", 24.9380, 60.1650, T0)  # ~600 m away
    incident_id = new_incident(conn)
    router = inc.load_router(conn)
    rules = inc.rules_for(conn, max_fix_age_s=300)
    row, shown = inc.suggestions_for(conn, router, incident_id, rules, T0 + timedelta(seconds=5))
    ranked = [s.unit_id for s in shown.ranked]
    assert ranked[:2] == ["U001", "U002"]
    assert shown.ranked[0].reasons[0] == "closest by ETA"
    no_fix = {e.unit_id for e in shown.excluded if e.reason == "no_fix"}
    assert "U003" in no_fix  # never reported: listed, not hidden
    first = shown.ranked[0]
    alice = shown_sets.Viewer("desk:alice")
    with conn.transaction():
        set_id = shown_sets.record_shown(conn, row, shown, alice, T0 + timedelta(seconds=5))
        sent = shown_sets.dispatch_shown(
            conn,
            set_id,
            ["U001"],
            alice,
            T0 + timedelta(seconds=10),
            max_age_s=120,
            may_override=False,
        )
    orders = sent.orders
    assert sent.refused == [] and len(orders) == 1 and sent.overrides == {}
    stored = conn.execute("SELECT suggested_rank, eta_s FROM orders").fetchone()
    assert stored == (1, pytest.approx(first.eta_s, rel=1e-6))
    message = inc.order_message(orders[0], row)
    assert message["incident_id"] == incident_id and message["priority"] == 1

    steps = [("ack", 18), ("enroute", 30)]
    for action, s in steps:
        with conn.transaction():
            done = inc.apply_action(
                conn,
                "U001",
                action,
                "unit:U001",
                T0 + timedelta(seconds=s),
                order_id=orders[0].id,
                source="ack",
            )
        assert done.ok, done
    # The unit drives to the scene: arrival is detected from its position.
    place(conn, "trk-c01", SCENE[0] + 0.0002, SCENE[1], T0 + timedelta(seconds=200))
    with conn.transaction():
        arrived = inc.detect_arrivals(conn, 50.0, T0 + timedelta(seconds=201))
    assert [(a.unit_id, a.ok) for a in arrived] == [("U001", True)]
    with conn.transaction():
        assert inc.apply_action(conn, "U001", "clear", "unit:U001", T0 + timedelta(seconds=900)).ok
        assert inc.close_incident(conn, incident_id, "desk:bob", T0 + timedelta(seconds=950))

    kinds = [e["kind"] for e in incident_store.incident_events(conn, incident_id)]
    assert kinds == [
        "created",
        "suggestions_shown",
        "dispatched",
        "acknowledged",
        "enroute",
        "onscene",
        "cleared",
        "closed",
    ]
    clock = conn.execute(
        "SELECT first_dispatched_at - created_at, first_acknowledged_at - "
        "first_dispatched_at, first_onscene_at - created_at FROM incident_clock "
        "WHERE incident_id = %s",
        (incident_id,),
    ).fetchone()
    assert clock == (timedelta(seconds=10), timedelta(seconds=8), timedelta(seconds=200))
    assert conn.execute("SELECT status FROM units WHERE id = 'U001'").fetchone() == ("available",)
    assert conn.execute("SELECT state FROM orders").fetchall() == [("cleared",)]


def test_illegal_transitions_are_refused_and_recorded(conn):
    incident_id = new_incident(conn)
    with conn.transaction():
        inc.dispatch_units(conn, incident_id, [inc.Pick("U001")], "desk:alice", T0)
        early = inc.apply_action(conn, "U001", "clear", "unit:U001", T0)  # not arrived yet
        wrong = inc.apply_action(conn, "U001", "ack", "unit:U001", T0, order_id="nope")
        again, refused = inc.dispatch_units(conn, incident_id, [inc.Pick("U001")], "desk:b", T0)
    assert (early.ok, early.reason) == (False, "clear is not allowed when dispatched")
    assert not wrong.ok and "not live" in wrong.reason
    assert again == [] and refused[0].reason == "dispatch is not allowed when dispatched"
    logged = conn.execute(
        "SELECT count(*) FROM events WHERE kind = 'transition_refused'"
    ).fetchone()
    assert logged == (3,)


def test_the_event_log_is_append_only(conn):
    new_incident(conn)
    with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
        conn.execute("UPDATE events SET actor = 'mallory'")
    conn.rollback()
    with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
        conn.execute("DELETE FROM events")


def test_a_repeated_110_incident_is_created_once(conn):
    new = NewIncident("disturbance", 3, SCENE[0], SCENE[1], T0, "", "110-777")
    with conn.transaction():
        first = inc.create_incident(conn, new, "110", "110", T0)
        second = inc.create_incident(conn, new, "110", "110", T0)
    assert first is not None and second is None


def test_the_map_knows_each_units_current_incident(conn):
    from geo import queries

    incident_id = new_incident(conn)
    with conn.transaction():
        inc.dispatch_units(conn, incident_id, [inc.Pick("U003")], "desk", T0)
    rows = {r["id"]: r["incident_id"] for r in queries.unit_positions(conn, T0)}
    assert rows["U003"] == incident_id and rows["U001"] is None
    assert len(rows) == 40  # one row a unit, whatever its orders
