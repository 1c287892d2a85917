"""Cameras: their streams and their health."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from store import statements

_sql = statements.loader("cameras")


def camera_ids(conn: psycopg.Connection) -> list[str]:
    """Every camera's id, in id order."""
    return [row[0] for row in conn.execute(_sql("camera_ids")).fetchall()]


def set_stream_url(conn: psycopg.Connection, camera_id: str, url: str) -> bool:
    """Point ``camera_id`` at ``url``; False when there is no such camera."""
    cur = conn.execute(_sql("set_stream_url"), {"camera_id": camera_id, "url": url})
    return cur.rowcount == 1


def camera_streams(conn: psycopg.Connection) -> list[tuple[str, str]]:
    """(camera id, stream URL) of every camera, in id order. The URL may
    carry credentials: it stays on the server."""
    return [(r[0], r[1]) for r in conn.execute(_sql("camera_streams")).fetchall()]


def record_camera_health(
    conn: psycopg.Connection, camera_id: str, status: str, detail: str, at: datetime
) -> str | None:
    """Store ``camera_id``'s verdict at ``at``; returns the status before (None: first)."""
    params = {"camera_id": camera_id, "status": status, "detail": detail, "at": at}
    row = conn.execute(_sql("record_camera_health"), params).fetchone()
    return None if row is None else row[0]


def camera_health(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Every camera's last verdict: ``camera_id``, ``name``, ``status`` (None:
    never checked), ``detail``, ``checked_at``, ``changed_at``."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(_sql("camera_health")).fetchall()


def raise_camera_alarm(
    conn: psycopg.Connection, kind: str, severity: int, camera_id: str, at: datetime, detail: str
) -> int | None:
    """Open ``camera_id``'s ``kind`` alarm; its id, or None if one was open already."""
    params = {"kind": kind, "severity": severity, "camera_id": camera_id, "at": at}
    row = conn.execute(_sql("raise_camera_alarm"), {**params, "detail": detail}).fetchone()
    return None if row is None else int(row[0])


def clear_camera_alarm(conn: psycopg.Connection, kind: str, camera_id: str, at: datetime) -> bool:
    """Clear ``camera_id``'s open ``kind`` alarm; False when none was open."""
    params = {"kind": kind, "camera_id": camera_id, "at": at}
    return conn.execute(_sql("clear_camera_alarm"), params).fetchone() is not None


def camera_stream(conn: psycopg.Connection, camera_id: str) -> str | None:
    """``camera_id``'s stream URL, or None when there is no such camera."""
    row = conn.execute(_sql("camera_stream"), {"camera_id": camera_id}).fetchone()
    return None if row is None else str(row[0])


def _rows(conn: psycopg.Connection, query: str, params: Any = None) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchall()


def cameras(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Cameras with position, ``bearing_deg``, ``fov_deg``, ``range_m`` and ``stream_url``."""
    return _rows(conn, _sql("cameras"))


def cameras_near(
    conn: psycopg.Connection, lon: float, lat: float, limit_m: float
) -> list[dict[str, Any]]:
    """Cameras within ``limit_m`` metres of (lon, lat), nearest first, with ``distance_m``."""
    return _rows(conn, _sql("cameras_near"), {"lon": lon, "lat": lat, "limit_m": limit_m})
