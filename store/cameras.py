"""Cameras: their streams and their health."""

from __future__ import annotations

import psycopg

from store import statements

_sql = statements.loader("cameras")


def camera_ids(conn: psycopg.Connection) -> list[str]:
    """Every camera's id, in id order."""
    return [row[0] for row in conn.execute(_sql("camera_ids")).fetchall()]


def set_stream_url(conn: psycopg.Connection, camera_id: str, url: str) -> bool:
    """Point ``camera_id`` at ``url``; False when there is no such camera."""
    cur = conn.execute(_sql("set_stream_url"), {"camera_id": camera_id, "url": url})
    return cur.rowcount == 1
