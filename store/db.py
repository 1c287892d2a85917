"""The connection pool. One owner (the process's entry point) opens it and
passes connections *down*; nothing here is a module global."""

from __future__ import annotations

import psycopg
from psycopg_pool import ConnectionPool

from store import statements

_sql = statements.loader("db")


def open_pool(
    url: str,
    *,
    min_size: int = 1,
    max_size: int = 8,
    name: str = "dispatchmap",
    wait: bool = True,
) -> ConnectionPool:
    """A pool on ``url``; autocommit off, UTC session time zone. With
    ``wait`` False it is returned at once and connects in the background (a
    replica that is away at start), and each connection is checked before use."""

    def configure(conn):
        set_utc(conn)
        conn.commit()

    pool = ConnectionPool(
        url,
        min_size=min_size,
        max_size=max_size,
        name=name,
        configure=configure,
        open=False,
        check=None if wait else ConnectionPool.check_connection,
    )
    pool.open(wait=wait, timeout=30)
    return pool


def set_utc(conn: psycopg.Connection) -> None:
    """Give the session UTC as its time zone (times read back are UTC)."""
    conn.execute(_sql("set_utc"))
