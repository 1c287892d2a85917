"""Orders (the outbox to the terminals) and the units' status they move.
Each function runs one statement of ``store/sql/orders/``; the caller owns
the transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from geo.dispatch import UnitSnapshot
from store import statements

_sql = statements.loader("orders")


def _rows(conn: psycopg.Connection, text: str, params: Any = None) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(text, params).fetchall()


def insert_order(conn: psycopg.Connection, order: dict[str, Any]) -> None:
    """Write a new order (state ``sent``, unpublished): ``order`` has ``id``,
    ``incident_id``, ``unit_id``, ``sent_at``, ``sent_by``, ``eta_s`` (s),
    ``route_distance_m`` (m) and ``suggested_rank`` (None for an override)."""
    keys = ("id", "incident_id", "unit_id", "sent_at", "sent_by", "eta_s")
    params = (*(order[k] for k in keys), order["route_distance_m"], order["suggested_rank"])
    conn.execute(_sql("insert_order"), params)


def set_order_state(conn: psycopg.Connection, order_id: str, state: str) -> None:
    """Set an order's state (sent, acknowledged, enroute, onscene, cleared, cancelled)."""
    conn.execute(_sql("set_order_state"), (state, order_id))


def live_order(conn: psycopg.Connection, unit_id: str) -> tuple[str, int, str] | None:
    """(order id, incident id, state) of the unit's order not yet cleared or
    cancelled; None when it has none."""
    row = conn.execute(_sql("live_order"), (unit_id,)).fetchone()
    return None if row is None else (str(row[0]), int(row[1]), str(row[2]))


def incident_live_orders(conn: psycopg.Connection, incident_id: int) -> int:
    """How many of the incident's orders are not yet cleared or cancelled."""
    row = conn.execute(_sql("incident_live_orders"), (incident_id,)).fetchone()
    return 0 if row is None else int(row[0])


def unpublished_orders(conn: psycopg.Connection) -> list[tuple[Any, ...]]:
    """The outbox, oldest first, locked (others skip it): (id, incident_id,
    unit_id, sent_at, eta_s, route_distance_m, incident status)."""
    return conn.execute(_sql("unpublished_orders")).fetchall()


def mark_published(conn: psycopg.Connection, order_id: str, at: datetime) -> None:
    """Stamp the order as published to its terminal at ``at``."""
    conn.execute(_sql("mark_published"), (at, order_id))


def incident_orders(conn: psycopg.Connection, incident_id: int) -> list[dict[str, Any]]:
    """The orders of one incident with their live state, oldest first."""
    return _rows(conn, _sql("incident_orders"), (incident_id,))


def order_ack_times(
    conn: psycopg.Connection, since: datetime, until: datetime
) -> list[float | None]:
    """Seconds from each order sent in [since, until) to its acknowledgement; None if never."""
    rows = conn.execute(_sql("order_ack_times"), {"since": since, "until": until})
    return [None if r[3] is None else float(r[3]) for r in rows]


def shift_orders(
    conn: psycopg.Connection, since: datetime, until: datetime
) -> list[dict[str, Any]]:
    """Orders sent in [since, until) with ``priority`` and ``ack_s`` (None if not acknowledged)."""
    return _rows(conn, _sql("shift_orders"), {"since": since, "until": until})


def lock_unit(conn: psycopg.Connection, unit_id: str) -> str | None:
    """The unit's status, its row locked for update; None for no such unit."""
    row = conn.execute(_sql("lock_unit"), (unit_id,)).fetchone()
    return None if row is None else str(row[1])


def set_unit_status(
    conn: psycopg.Connection, unit_id: str, status: str, at: datetime, reason: str | None = None
) -> None:
    """Set a unit's status (a :class:`geo.status.Status`) as of ``at``, with
    the ``reason`` a person gave (None: none, or set by a key or the system)."""
    params = {"id": unit_id, "status": status, "at": at, "reason": reason}
    conn.execute(_sql("set_unit_status"), params)


def unit_statuses(conn: psycopg.Connection) -> dict[str, dict[str, Any]]:
    """Unit id -> its ``status``, ``status_since`` (aware UTC) and
    ``status_reason`` (None unless a person gave one)."""
    return {r["id"]: r for r in _rows(conn, _sql("unit_statuses"))}


def unit_snapshots(conn: psycopg.Connection) -> list[UnitSnapshot]:
    """Every roster unit's status and latest fix (WGS84 degrees; None
    without a fix), by id, for suggestions."""
    return [UnitSnapshot(*row) for row in conn.execute(_sql("unit_snapshots"))]


def unit_of_device(conn: psycopg.Connection, device_id: str) -> str | None:
    """The unit a device is tied to; None when untied or unknown."""
    row = conn.execute(_sql("unit_of_device"), (device_id,)).fetchone()
    return None if row is None else row[0]


def arrivals(conn: psycopg.Connection, radius_m: float) -> list[dict[str, Any]]:
    """Orders en route whose unit's latest fix (newer than the order) lies
    within ``radius_m`` metres of the incident or of its nearest car road:
    ``order_id``, ``unit_id``, ``incident_id``, ``fix_at``, ``lon``, ``lat``."""
    return _rows(conn, _sql("arrivals"), {"radius_m": radius_m})


def republish_orders(conn: psycopg.Connection, incident_id: int) -> list[str]:
    """Put the incident's live orders back in the outbox (sent again as an
    update, same id); their ids."""
    return [str(r[0]) for r in conn.execute(_sql("republish_orders"), (incident_id,))]
