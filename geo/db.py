"""The connection pool. One owner (the process's entry point) opens it and
passes connections *down*; nothing here is a module global."""

from __future__ import annotations

from psycopg_pool import ConnectionPool


def open_pool(
    url: str, *, min_size: int = 1, max_size: int = 8, name: str = "dispatchmap"
) -> ConnectionPool:
    """A ready pool on ``url``; autocommit off, UTC session time zone."""

    def configure(conn):
        conn.execute("SET TIME ZONE 'UTC'")
        conn.commit()

    pool = ConnectionPool(
        url, min_size=min_size, max_size=max_size, name=name, configure=configure, open=False
    )
    pool.open(wait=True, timeout=30)
    return pool
