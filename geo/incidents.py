"""Incidents, orders and unit status changes in PostGIS, every change written
to the append-only ``events`` log in the same transaction. Functions take the
connection first; the caller owns the transaction and publishes any order
over MQTT only after it commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from geo import queries
from geo.dispatch import Incident, Rules, Suggestions, UnitSnapshot, suggest
from geo.intake import NewIncident
from geo.routing import RoadGraph, Router
from geo.status import EVENT_KIND, ORDER_STATE, Action, IllegalTransition, Status, next_status
from store.values import jsonb_text


@dataclass(frozen=True, slots=True)
class Pick:
    """A unit the dispatcher chose; ``rank`` is its place in the suggestions
    on record (1 = first), None when the dispatcher overrode them, and then
    ``override`` says why (:class:`geo.shown_sets.Override`); ``shown_set_id``
    names the stored set the dispatch was made from."""

    unit_id: str
    eta_s: float | None = None
    route_distance_m: float | None = None
    rank: int | None = None
    override: str | None = None
    shown_set_id: int | None = None


@dataclass(frozen=True, slots=True)
class Order:
    id: str
    incident_id: int
    unit_id: str
    sent_at: datetime
    eta_s: float | None
    route_distance_m: float | None


@dataclass(frozen=True, slots=True)
class Applied:
    """The result of one action on a unit: ``ok`` False means refused (and logged)."""

    unit_id: str
    action: str
    ok: bool
    status: str
    order_id: str | None = None
    incident_id: int | None = None
    reason: str | None = None


def record_event(
    conn: psycopg.Connection,
    *,
    at: datetime,
    kind: str,
    actor: str,
    incident_id: int | None = None,
    unit_id: str | None = None,
    order_id: str | None = None,
    lon: float | None = None,
    lat: float | None = None,
    data: dict[str, Any] | None = None,
) -> int:
    """Append one event; returns its id. ``data`` must be JSON-serialisable."""
    row = conn.execute(
        queries.sql("insert_event"),
        {
            "at": at,
            "kind": kind,
            "actor": actor,
            "incident_id": incident_id,
            "unit_id": unit_id,
            "order_id": order_id,
            "lon": lon,
            "lat": lat,
            "data": jsonb_text(data or {}),
        },
    ).fetchone()
    assert row is not None
    return int(row[0])


def load_router(conn: psycopg.Connection) -> Router:
    """The car router over the loaded road network (built once per process)."""
    return Router(RoadGraph(queries.car_graph(conn)), queries.node_positions(conn))


def incident_types(conn: psycopg.Connection) -> dict[str, tuple[int, frozenset[str]]]:
    """Type id -> (default priority, unit kinds allowed; empty = any)."""
    rows = conn.execute(queries.sql("incident_type_priorities")).fetchall()
    return {t: (int(p), frozenset(kinds)) for t, p, kinds in rows}


def rules_for(conn: psycopg.Connection, max_fix_age_s: float, top_k: int = 5) -> Rules:
    """Suggestion rules with the kinds each incident type needs, from the table."""
    kinds = {t: k for t, (_, k) in incident_types(conn).items() if k}
    return Rules(kinds_for_type=kinds, max_fix_age_s=max_fix_age_s, top_k=top_k)


def create_incident(
    conn: psycopg.Connection, new: NewIncident, actor: str, source: str, now: datetime
) -> int | None:
    """Insert the incident and its ``created`` event; None if its external id
    is known already (the 110 system sent it twice)."""
    row = conn.execute(
        queries.sql("insert_incident"),
        {**asdict(new), "now": now, "actor": actor, "source": source},
    ).fetchone()
    if row is None:
        return None
    incident_id = int(row[0])
    record_event(
        conn,
        at=now,
        kind="created",
        actor=actor,
        incident_id=incident_id,
        lon=new.lon,
        lat=new.lat,
        data={k: v for k, v in asdict(new).items() if k not in ("lon", "lat")},
    )
    return incident_id


def incident(conn: psycopg.Connection, incident_id: int) -> dict[str, Any] | None:
    """One incident with ``lon``/``lat`` and the ``beat`` it lies in (or None)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(queries.sql("incident"), (incident_id,)).fetchone()


def unit_snapshots(conn: psycopg.Connection) -> list[UnitSnapshot]:
    """Every roster unit's status and latest fix, for suggestions."""
    return [UnitSnapshot(*row) for row in conn.execute(queries.sql("unit_snapshots"))]


def suggestions_for(
    conn: psycopg.Connection, router: Router, incident_id: int, rules: Rules, now: datetime
) -> tuple[dict[str, Any], Suggestions]:
    """The incident and the units that can reach it soonest by road. Raises
    LookupError for an incident id that does not exist."""
    row = incident(conn, incident_id)
    if row is None:
        raise LookupError(f"no incident {incident_id}")
    target = Incident(str(row["id"]), row["lon"], row["lat"], row["type"], row["priority"])
    return row, suggest(router, target, unit_snapshots(conn), rules, now, row["beat"])


def dispatch_units(
    conn: psycopg.Connection, incident_id: int, picks: Sequence[Pick], actor: str, now: datetime
) -> tuple[list[Order], list[Applied]]:
    """Send each picked unit: an order, the unit's status, an event. A unit
    that cannot be dispatched (not available) is refused and logged; the
    others are still sent."""
    orders, refused = [], []
    for pick in picks:
        status = _lock_unit(conn, pick.unit_id)
        try:
            new = next_status(status, Action.DISPATCH)
        except IllegalTransition as exc:
            refused.append(
                _refuse(
                    conn,
                    pick.unit_id,
                    Action.DISPATCH,
                    status,
                    str(exc),
                    actor,
                    now,
                    incident_id=incident_id,
                )
            )
            continue
        order = Order(
            uuid.uuid4().hex[:16], incident_id, pick.unit_id, now, pick.eta_s, pick.route_distance_m
        )
        conn.execute(
            queries.sql("insert_order"),
            (
                order.id,
                incident_id,
                pick.unit_id,
                now,
                actor,
                pick.eta_s,
                pick.route_distance_m,
                pick.rank,
            ),
        )
        conn.execute(queries.sql("set_unit_status"), (new, pick.unit_id))
        record_event(
            conn,
            at=now,
            kind="dispatched",
            actor=actor,
            incident_id=incident_id,
            unit_id=pick.unit_id,
            order_id=order.id,
            data={
                "rank": pick.rank,
                "eta_s": pick.eta_s,
                "status": new,
                "route_distance_m": pick.route_distance_m,
                "override": pick.override,
                "shown_set_id": pick.shown_set_id,
            },
        )
        orders.append(order)
    if orders:
        conn.execute(
            queries.sql("set_incident_status"), {"id": incident_id, "status": "dispatched"}
        )
    return orders, refused


def _lock_unit(conn: psycopg.Connection, unit_id: str) -> str:
    row = conn.execute(queries.sql("lock_unit"), (unit_id,)).fetchone()
    if row is None:
        raise LookupError(f"no unit {unit_id}")
    return str(row[1])


def _refuse(
    conn: psycopg.Connection,
    unit_id: str,
    action: str,
    status: str,
    reason: str,
    actor: str,
    at: datetime,
    **ids: Any,
) -> Applied:
    record_event(
        conn,
        at=at,
        kind="transition_refused",
        actor=actor,
        unit_id=unit_id,
        data={"action": str(action), "status": status, "reason": reason},
        **ids,
    )
    return Applied(
        unit_id, str(action), False, status, ids.get("order_id"), ids.get("incident_id"), reason
    )


def apply_action(
    conn: psycopg.Connection,
    unit_id: str,
    action: str,
    actor: str,
    at: datetime,
    *,
    order_id: str | None = None,
    lon: float | None = None,
    lat: float | None = None,
    source: str = "desk",
) -> Applied:
    """Apply a status key, an acknowledgement, a detection or a desk action to
    a unit. Refused (and logged as ``transition_refused``) when illegal, or
    when ``order_id`` is given and is not the unit's live order."""
    status = _lock_unit(conn, unit_id)
    live = conn.execute(queries.sql("live_order"), (unit_id,)).fetchone()
    live_id, incident_id = (str(live[0]), int(live[1])) if live else (None, None)
    if order_id is not None and order_id != live_id:
        return _refuse(
            conn,
            unit_id,
            action,
            status,
            f"order {order_id} is not live",
            actor,
            at,
            incident_id=incident_id,
            order_id=live_id,
        )
    try:
        new = next_status(status, action)
    except IllegalTransition as exc:
        return _refuse(
            conn,
            unit_id,
            action,
            status,
            str(exc),
            actor,
            at,
            incident_id=incident_id,
            order_id=live_id,
        )
    conn.execute(queries.sql("set_unit_status"), (new, unit_id))
    if live_id is not None:
        _advance_order(conn, live_id, incident_id, Action(action), new)
    record_event(
        conn,
        at=at,
        kind=EVENT_KIND[Action(action)],
        actor=actor,
        incident_id=incident_id if live_id else None,
        unit_id=unit_id,
        order_id=live_id,
        lon=lon,
        lat=lat,
        data={"from": status, "to": new, "source": source},
    )
    return Applied(unit_id, str(action), True, new, live_id, incident_id)


def _advance_order(
    conn: psycopg.Connection, order_id: str, incident_id: int | None, action: Action, new: Status
) -> None:
    state = {Action.CLEAR: "cleared", Action.CANCEL: "cancelled", Action.BUSY: "cleared"}.get(
        action
    ) or ORDER_STATE.get(new)
    if state is None:
        return
    conn.execute(queries.sql("set_order_state"), (state, order_id))
    if state == "onscene":
        conn.execute(queries.sql("set_incident_status"), {"id": incident_id, "status": "onscene"})
    elif state in ("cleared", "cancelled"):
        left = conn.execute(queries.sql("incident_live_orders"), (incident_id,)).fetchone()
        if left is not None and left[0] == 0 and state == "cleared":
            conn.execute(
                queries.sql("set_incident_status"), {"id": incident_id, "status": "cleared"}
            )


def detect_arrivals(conn: psycopg.Connection, radius_m: float, now: datetime) -> list[Applied]:
    """Mark on scene every unit en route whose latest fix is within ``radius_m``
    of its incident; the event carries the fix that showed it."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(queries.sql("arrivals"), {"radius_m": radius_m}).fetchall()
    return [
        apply_action(
            conn,
            r["unit_id"],
            Action.ONSCENE,
            "system",
            r["fix_at"],
            order_id=r["order_id"],
            lon=r["lon"],
            lat=r["lat"],
            source="position",
        )
        for r in rows
    ]


def close_incident(conn: psycopg.Connection, incident_id: int, actor: str, now: datetime) -> bool:
    """Close an incident; False if it was closed already."""
    done = conn.execute(
        queries.sql("set_incident_status"), {"id": incident_id, "status": "closed"}
    ).fetchone()
    if done:
        record_event(conn, at=now, kind="closed", actor=actor, incident_id=incident_id)
    return done is not None


def unit_of_device(conn: psycopg.Connection, device_id: str) -> str | None:
    row = conn.execute(queries.sql("device_unit"), (device_id,)).fetchone()
    return None if row is None else row[0]


def incident_events(conn: psycopg.Connection, incident_id: int) -> list[dict[str, Any]]:
    """The incident's event log, oldest first."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(queries.sql("incident_events"), (incident_id,)).fetchall()


def order_message(order: Order, row: dict[str, Any]) -> dict[str, Any]:
    """What a terminal receives on ``dm/orders/{unit_id}``."""
    return {
        "order_id": order.id,
        "incident_id": order.incident_id,
        "type": row["type"],
        "priority": row["priority"],
        "lat": row["lat"],
        "lon": row["lon"],
        "notes": row["notes"],
        "eta_s": order.eta_s,
        "route_distance_m": order.route_distance_m,
        "sent_at": order.sent_at.isoformat(),
    }


def response_clock(
    conn: psycopg.Connection, since: datetime, until: datetime
) -> list[dict[str, Any]]:
    """Milestones of every incident created in [since, until), oldest first."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            queries.sql("response_clock"), {"since": since, "until": until}
        ).fetchall()


def order_ack_times(
    conn: psycopg.Connection, since: datetime, until: datetime
) -> list[float | None]:
    """Seconds from each order sent in [since, until) to its acknowledgement; None if never."""
    rows = conn.execute(queries.sql("order_ack_times"), {"since": since, "until": until})
    return [None if r[3] is None else float(r[3]) for r in rows]
