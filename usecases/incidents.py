"""Use-cases of incidents, orders and unit status: create, dispatch, apply
a key or an acknowledgement, detect arrivals, close. Every change is written
with its event (``store.incidents.insert_event``) in the same transaction.
Functions take the connection first; the caller owns the transaction and
publishes any order over MQTT only after it commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import psycopg

from geo.dispatch import Incident, Rules, Suggestions, suggest
from geo.intake import CHANGEABLE, Closing, NewIncident, parse_closing, parse_incident
from geo.routing import RoadGraph, Router
from geo.status import (
    EVENT_KIND,
    ORDER_STATE,
    Action,
    IllegalTransition,
    Status,
    manual_change,
    next_status,
)
from store import city as city_store
from store import incidents as incident_store
from store import orders as order_store


@dataclass(frozen=True, slots=True)
class Pick:
    """A unit the dispatcher chose; ``rank`` is its place in the suggestions
    on record (1 = first), None when the dispatcher overrode them, and then
    ``override`` says why (:class:`usecases.shown_sets.Override`); ``shown_set_id``
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


def load_router(conn: psycopg.Connection) -> Router:
    """The car router over the loaded road network (built once per process)."""
    return Router(RoadGraph(city_store.car_graph(conn)), city_store.node_positions(conn))


def rules_for(conn: psycopg.Connection, max_fix_age_s: float, top_k: int = 5) -> Rules:
    """Suggestion rules with the kinds each incident type needs, from the table."""
    kinds = {t: k for t, (_, k) in incident_store.incident_types(conn).items() if k}
    return Rules(kinds_for_type=kinds, max_fix_age_s=max_fix_age_s, top_k=top_k)


def intake(
    conn: psycopg.Connection, fields: Any, actor: str, source: str, now: datetime
) -> int | None:
    """Check ``fields`` (a 110 message or the desk's form, as
    :func:`geo.intake.parse_incident` reads them) against the incident types
    on record and create the incident; its id. An external id already known
    updates that incident instead (:func:`update_incident`: type, priority,
    place, notes) and returns its id; None when that one is closed. Raises
    :class:`geo.intake.IntakeError` (nothing written)."""
    types = {t: p for t, (p, _) in incident_store.incident_types(conn).items()}
    new = parse_incident(fields, types, now)
    created = create_incident(conn, new, actor, source, now)
    if created is not None or new.external_id is None:
        return created
    known = incident_store.incident_of_external_id(conn, new.external_id)
    assert known is not None  # the insert met its external id
    changes = {k: getattr(new, k) for k in CHANGEABLE}
    return known if update_incident(conn, known, changes, actor, source, now) is not None else None


def update_incident(
    conn: psycopg.Connection,
    incident_id: int,
    changes: dict[str, Any],
    actor: str,
    source: str,
    now: datetime,
) -> dict[str, Any] | None:
    """Change an incident not closed (``changes`` as
    :func:`geo.intake.parse_changes` gives them). What did change goes in an
    ``updated`` event, before and after (every version is kept in the log),
    and the units on it get the incident again on their order (same order
    id). Returns {field: [before, after]} of what changed ({} for nothing),
    None for a closed or unknown incident."""
    row = incident_store.update_incident(conn, incident_id, changes)
    if row is None:
        return None
    diff = {k: [row[k], row[f"new_{k}"]] for k in CHANGEABLE if row[k] != row[f"new_{k}"]}
    if diff:
        orders = order_store.republish_orders(conn, incident_id)
        data = {"changes": diff, "version": row["version"], "source": source, "orders": orders}
        incident_store.insert_event(
            conn, at=now, kind="updated", actor=actor, incident_id=incident_id, data=data
        )
    return diff


def create_incident(
    conn: psycopg.Connection, new: NewIncident, actor: str, source: str, now: datetime
) -> int | None:
    """Insert the incident and its ``created`` event; None if its external id
    is known already (the 110 system sent it twice)."""
    fields = {**asdict(new), "now": now, "actor": actor, "source": source}
    incident_id = incident_store.insert_incident(conn, fields)
    if incident_id is None:
        return None
    incident_store.insert_event(
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


def suggestions_for(
    conn: psycopg.Connection, router: Router, incident_id: int, rules: Rules, now: datetime
) -> tuple[dict[str, Any], Suggestions]:
    """The incident and the units that can reach it soonest by road. Raises
    LookupError for an incident id that does not exist."""
    row = incident_store.incident(conn, incident_id)
    if row is None:
        raise LookupError(f"no incident {incident_id}")
    target = Incident(str(row["id"]), row["lon"], row["lat"], row["type"], row["priority"])
    return row, suggest(router, target, order_store.unit_snapshots(conn), rules, now, row["beat"])


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
        order_store.insert_order(
            conn, {**asdict(order), "sent_by": actor, "suggested_rank": pick.rank}
        )
        order_store.set_unit_status(conn, pick.unit_id, new, now)
        incident_store.insert_event(
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
        incident_store.set_incident_status(conn, incident_id, "dispatched")
    return orders, refused


def _lock_unit(conn: psycopg.Connection, unit_id: str) -> str:
    status = order_store.lock_unit(conn, unit_id)
    if status is None:
        raise LookupError(f"no unit {unit_id}")
    return status


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
    incident_store.insert_event(
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
    status_reason: str | None = None,
) -> Applied:
    """Apply a status key, an acknowledgement, a detection or a desk action to
    a unit. Refused (and logged as ``transition_refused``) when illegal, or
    when ``order_id`` is given and is not the unit's live order.
    ``status_reason`` is what a person said the new status is for (kept on
    the unit and in the event)."""
    status = _lock_unit(conn, unit_id)
    live = order_store.live_order(conn, unit_id)
    live_id, incident_id = (live[0], live[1]) if live else (None, None)
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
    order_store.set_unit_status(conn, unit_id, new, at, status_reason)
    if live_id is not None:
        _advance_order(conn, live_id, incident_id, Action(action), new)
    incident_store.insert_event(
        conn,
        at=at,
        kind=EVENT_KIND[Action(action)],
        actor=actor,
        incident_id=incident_id if live_id else None,
        unit_id=unit_id,
        order_id=live_id,
        lon=lon,
        lat=lat,
        data={"from": status, "to": new, "source": source}
        | ({"reason": status_reason} if status_reason else {}),
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
    order_store.set_order_state(conn, order_id, state)
    if incident_id is None:
        return
    if state == "onscene":
        incident_store.set_incident_status(conn, incident_id, "onscene")
    elif state == "cleared" and order_store.incident_live_orders(conn, incident_id) == 0:
        incident_store.set_incident_status(conn, incident_id, "cleared")


def detect_arrivals(conn: psycopg.Connection, radius_m: float, now: datetime) -> list[Applied]:
    """Mark on scene every unit en route whose latest fix is within ``radius_m``
    of its incident; the event carries the fix that showed it."""
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
        for r in order_store.arrivals(conn, radius_m)
    ]


def close_incident(
    conn: psycopg.Connection,
    incident_id: int,
    actor: str,
    now: datetime,
    closing: Closing | None = None,
) -> bool:
    """Close an incident, with how it ended (``closing``: the desk always
    gives one; None where the system closes it); the ``closed`` event carries
    the disposition and result. False if it was closed already."""
    disposition, result = (closing.disposition, closing.result) if closing else (None, None)
    done = incident_store.close_incident(conn, incident_id, disposition, result)
    if done:
        data = asdict(closing) if closing else None
        incident_store.insert_event(
            conn, at=now, kind="closed", actor=actor, incident_id=incident_id, data=data
        )
    return done


def close_with_disposition(
    conn: psycopg.Connection, incident_id: int, actor: str, now: datetime, values: tuple[Any, Any]
) -> bool:
    """Close from the desk's (disposition, result) ``values``, checked against
    the dispositions on record; raises :class:`geo.intake.IntakeError`
    (nothing written) when either is missing or wrong."""
    known = {d["id"]: (d["name_en"], d["name_zh"]) for d in incident_store.dispositions(conn)}
    return close_incident(conn, incident_id, actor, now, parse_closing(*values, known))


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
        "version": row.get("version"),
    }


def set_status_by_hand(
    conn: psycopg.Connection, unit_id: str, choice: Any, reason: Any, actor: str, at: datetime
) -> Applied:
    """A person sets a unit's status (:data:`geo.status.MANUAL`) with a
    reason; refused and logged like any illegal transition (a unit on an
    order is moved by its order, not by hand). Raises
    :class:`geo.status.ManualStatusError` for a bad choice or reason (nothing
    written) and LookupError for a unit not on the roster."""
    action, why = manual_change(choice, reason)
    return apply_action(conn, unit_id, action, actor, at, source="desk", status_reason=why)
