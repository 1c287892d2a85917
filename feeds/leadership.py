"""One active dispatcher among several: a PostgreSQL session advisory lock.

Orders, alarms and arrivals must come from one place, or a terminal would
get every order twice and every alarm would be raised twice. Each
dispatcher asks for the same advisory lock on a connection of its own; the
one that holds it is active, the others stand by and ask again every
``poll_s``. PostgreSQL drops a session's locks the moment its connection
ends, so when the active process dies (even ``kill -9``) the kernel closes
its socket and a standby takes over on its next try. The active one pings
its lock connection: if the database restarted or the network split, the
lock may be someone else's now, and it must stand down.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import psycopg

log = logging.getLogger("dispatchmap.leadership")

# pg_advisory_lock's key space is shared by every application in the database.
DISPATCH_LOCK_KEY = 0x646D_6469  # "dmdi"
# A connection whose server vanished without closing it fails its ping within
# about this many seconds instead of hanging on TCP's default minutes.
_KEEPALIVE: dict[str, Any] = {
    "keepalives": 1,
    "keepalives_idle": 2,
    "keepalives_interval": 1,
    "keepalives_count": 3,
    "tcp_user_timeout": 5000,
    "connect_timeout": 5,
}


class Leadership:
    """The dispatcher lock on ``database_url``; not thread-safe beyond one
    thread acquiring and one watching."""

    def __init__(self, database_url: str, key: int = DISPATCH_LOCK_KEY, poll_s: float = 1.0):
        self.database_url = database_url
        self.key = key
        self.poll_s = poll_s
        self._conn: psycopg.Connection | None = None

    def acquire(self, stopping: threading.Event) -> bool:
        """Block until this process holds the lock (True) or ``stopping`` is set (False)."""
        while not stopping.is_set():
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = psycopg.connect(self.database_url, autocommit=True, **_KEEPALIVE)
                row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
                if row is not None and row[0]:
                    return True
            except psycopg.OperationalError as exc:
                log.warning("cannot reach the database for the dispatcher lock: %s", exc)
                self.release()
            stopping.wait(self.poll_s)
        return False

    def held(self) -> bool:
        """Whether the lock's connection is still alive (and so the lock ours)."""
        if self._conn is None or self._conn.closed:
            return False
        try:
            self._conn.execute("SELECT 1")
        except psycopg.Error:
            self.release()
            return False
        return True

    def release(self) -> None:
        """Close the lock's connection, which frees the lock."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def watch(self, lost: threading.Event, stopping: threading.Event) -> threading.Thread:
        """A daemon thread that sets ``lost`` when the lock is no longer held."""

        def run() -> None:
            while not stopping.wait(self.poll_s):
                if not self.held():
                    lost.set()
                    return

        thread = threading.Thread(target=run, name="leadership-watch", daemon=True)
        thread.start()
        return thread
