"""Suggestion sets as the server showed them (``shown_sets``). Each function
runs one statement of ``store/sql/shown_sets/``; the caller owns the
transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

from store import statements

_sql = statements.loader("shown_sets")


def insert_shown_set(conn: psycopg.Connection, shown: dict[str, Any]) -> int:
    """Store a set (``incident_id``, ``incident_version``, ``shown_to``,
    ``user_id``, ``session``, ``shown_at``, ``ranked`` and ``excluded`` as
    JSON text, ``shortfall``); returns its id."""
    row = conn.execute(_sql("insert_shown_set"), shown).fetchone()
    assert row is not None
    return int(row[0])


def renew_shown_set(conn: psycopg.Connection, set_id: int, shown_at: datetime) -> int | None:
    """A copy of set ``set_id`` shown at ``shown_at``; its id, None if there is none."""
    row = conn.execute(_sql("renew_shown_set"), {"id": set_id, "shown_at": shown_at}).fetchone()
    return None if row is None else int(row[0])


def shown_set(conn: psycopg.Connection, set_id: int) -> tuple[Any, ...] | None:
    """(id, incident_id, incident_version, shown_to, user_id, session,
    shown_at, ranked, excluded, shortfall) of set ``set_id``; None if absent."""
    return conn.execute(_sql("shown_set"), (set_id,)).fetchone()
