"""Incidents, their types, the append-only ``events`` log and the response
clock read from it. Each function runs one statement of
``store/sql/incidents/``; the caller owns the transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from store import statements
from store.values import jsonb_text

_sql = statements.loader("incidents")


def _rows(conn: psycopg.Connection, text: str, params: Any = None) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(text, params).fetchall()


def insert_event(
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
    """Append one event (``lon``/``lat`` WGS84 degrees, both or neither);
    returns its id. ``data`` must be JSON-serialisable."""
    params = {
        "at": at,
        "kind": kind,
        "actor": actor,
        "incident_id": incident_id,
        "unit_id": unit_id,
        "order_id": order_id,
        "lon": lon,
        "lat": lat,
        "data": jsonb_text(data or {}),
    }
    row = conn.execute(_sql("insert_event"), params).fetchone()
    assert row is not None
    return int(row[0])


def insert_incident(conn: psycopg.Connection, fields: dict[str, Any]) -> int | None:
    """Insert an incident from ``fields`` (a :class:`geo.intake.NewIncident`
    as a dict plus ``now``, ``actor``, ``source``); its id, None when its
    ``external_id`` is known already."""
    row = conn.execute(_sql("insert_incident"), fields).fetchone()
    return None if row is None else int(row[0])


def incident(conn: psycopg.Connection, incident_id: int) -> dict[str, Any] | None:
    """One incident with ``lon``/``lat`` (WGS84 degrees), its ``version`` and
    the ``beat`` it lies in (or None); None when there is no such incident."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(_sql("incident"), (incident_id,)).fetchone()


def lock_incident(conn: psycopg.Connection, incident_id: int) -> tuple[int, str, int] | None:
    """(id, status, version) of the incident, locked for update; None if absent."""
    row = conn.execute(_sql("lock_incident"), (incident_id,)).fetchone()
    return None if row is None else (int(row[0]), str(row[1]), int(row[2]))


def set_incident_status(conn: psycopg.Connection, incident_id: int, status: str) -> bool:
    """Move the incident's status forward to ``status`` (open < dispatched <
    onscene < cleared < closed); False when it is there or beyond already."""
    row = conn.execute(_sql("set_incident_status"), {"id": incident_id, "status": status})
    return row.fetchone() is not None


def incident_types(conn: psycopg.Connection) -> dict[str, tuple[int, frozenset[str]]]:
    """Type id -> (default priority, unit kinds allowed; empty = any)."""
    rows = conn.execute(_sql("incident_types")).fetchall()
    return {t: (int(p), frozenset(kinds)) for t, p, kinds in rows}


def incident_type_list(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Incident types with English and Chinese names and default priority."""
    return _rows(conn, _sql("incident_type_list"))


def incident_events(conn: psycopg.Connection, incident_id: int) -> list[dict[str, Any]]:
    """The incident's event log, oldest first."""
    return _rows(conn, _sql("incident_events"), (incident_id,))


def open_incidents(conn: psycopg.Connection, now: datetime) -> list[dict[str, Any]]:
    """Incidents not closed, most urgent first, with ``age_s`` (seconds since
    created, at ``now``) and the units sent."""
    return _rows(conn, _sql("open_incidents"), {"now": now})


def response_clock(
    conn: psycopg.Connection, since: datetime, until: datetime
) -> list[dict[str, Any]]:
    """Milestones of every incident created in [since, until), oldest first."""
    return _rows(conn, _sql("response_clock"), {"since": since, "until": until})


def dispositions(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """How an incident may end: ``id``, ``name_en``, ``name_zh``, in the
    station's order."""
    return _rows(conn, _sql("dispositions"))


def close_incident(
    conn: psycopg.Connection, incident_id: int, disposition: str | None, result: str | None
) -> bool:
    """Close the incident with its ``disposition`` (an id of
    :func:`dispositions`) and ``result`` text; False when it was closed already."""
    params = {"id": incident_id, "disposition": disposition, "result": result}
    return conn.execute(_sql("close_incident"), params).fetchone() is not None


def incident_of_external_id(conn: psycopg.Connection, external_id: str) -> int | None:
    """The id of the incident the 110 system knows as ``external_id``, or None."""
    row = conn.execute(_sql("incident_of_external_id"), (external_id,)).fetchone()
    return None if row is None else int(row[0])


def update_incident(
    conn: psycopg.Connection, incident_id: int, changes: dict[str, Any]
) -> dict[str, Any] | None:
    """Change ``type``, ``priority``, ``notes`` and the place (``lon`` and
    ``lat``, WGS84 degrees, both or neither) of an incident not closed; a
    missing key is unchanged. The values before (``type`` ...) and after
    (``new_type`` ...) and the ``version``; None for a closed or unknown one."""
    params = {k: changes.get(k) for k in ("type", "priority", "notes", "lon", "lat")}
    rows = _rows(conn, _sql("update_incident"), {"id": incident_id, **params})
    return rows[0] if rows else None
