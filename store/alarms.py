"""Alarms: open, raised once, cleared. Each function runs one statement of
``store/sql/alarms/``; the caller owns the transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from store import statements

_sql = statements.loader("alarms")


def _rows(conn: psycopg.Connection, text: str, params: Any = None) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(text, params).fetchall()


def open_alarms(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Open alarms, most severe (1) and oldest first."""
    return _rows(conn, _sql("open_alarms"))


def raise_alarm(conn: psycopg.Connection, alarm: dict[str, Any]) -> bool:
    """Open ``alarm`` (``kind``, ``severity``, ``incident_id``, ``unit_id``,
    ``order_id``, ``raised_at``, ``detail``); False when an identical one is
    open already (it is left as it is)."""
    keys = ("kind", "severity", "incident_id", "unit_id", "order_id", "raised_at", "detail")
    row = conn.execute(_sql("raise_alarm"), tuple(alarm[k] for k in keys)).fetchone()
    return row is not None


def clear_alarm(conn: psycopg.Connection, alarm_id: int, at: datetime) -> bool:
    """Clear an open alarm at ``at``; False when it was cleared already."""
    return conn.execute(_sql("clear_alarm"), (at, alarm_id)).fetchone() is not None


def alarms_due(conn: psycopg.Connection, limits: dict[str, Any]) -> list[dict[str, Any]]:
    """Every timer alarm due at ``limits["now"]`` by the thresholds (seconds)
    in ``limits`` (:class:`usecases.alarms.Thresholds` as a dict)."""
    return _rows(conn, _sql("alarms_due"), limits)


def outside_beat_due(conn: psycopg.Connection, limits: dict[str, Any]) -> list[dict[str, Any]]:
    """Available units outside their home beat for over ``outside_beat_s``
    seconds at ``limits["now"]``; the columns of :func:`alarms_due`."""
    return _rows(conn, _sql("outside_beat_due"), limits)


def take_alarm(
    conn: psycopg.Connection, alarm_id: int, by: str, at: datetime
) -> dict[str, Any] | None:
    """Mark an open alarm taken by ``by`` at ``at``; the alarm (``id``,
    ``kind``, ``severity``, ``incident_id``, ``unit_id``, ``order_id``), or
    None when it is cleared, taken already or unknown."""
    rows = _rows(conn, _sql("take_alarm"), {"id": alarm_id, "by": by, "at": at})
    return rows[0] if rows else None
