"""Where the dashboard reads: a streaming replica when one is configured and
keeps up, else the primary.

The pages' ticks only read (units, incidents, alarms, charts, quality,
replay), and most of the database's work is theirs, so they may go to a hot
standby (``DATABASE_READ_URL``) while everything that writes or must see its
own writes (sign-in, sessions, the audit log, the desk's incidents, shown
sets and dispatches) stays on the primary. A command room must never watch
old data looking live: a replica more than ``max_lag_s`` behind, or one that
cannot be reached, is left for the primary until a later check finds it fit
again, and :attr:`ReadSource.state` says which it is (the wall shows it).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from geo import queries

log = logging.getLogger("dispatchmap.reads")


class ReadSource:
    """Connections for reading: the replica while it is fit, else the primary.
    The replica's fitness is checked at most every ``check_every_s``."""

    def __init__(
        self,
        primary: ConnectionPool,
        replica: ConnectionPool | None = None,
        *,
        max_lag_s: float = 5.0,
        check_every_s: float = 2.0,
    ) -> None:
        self.primary, self.replica = primary, replica
        self.max_lag_s, self.check_every_s = max_lag_s, check_every_s
        self._lock = threading.Lock()
        self._checked_at = -float("inf")
        self._fit = False
        self.state = "primary" if replica is None else "replica"

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """A connection to read from. A replica that cannot give one is left
        for the primary at once; one that fails mid-read fails that read and
        is left for the next."""
        if self.replica is not None and self._replica_fit():
            try:
                conn = self.replica.getconn(timeout=2)
            except (PoolTimeout, psycopg.OperationalError) as exc:
                self._unfit("replica away", exc)
            else:
                try:
                    yield conn
                except psycopg.OperationalError as exc:
                    self._unfit("replica away", exc)
                    raise
                finally:
                    self.replica.putconn(conn)
                return
        with self.primary.connection() as conn:
            yield conn

    def _replica_fit(self) -> bool:
        with self._lock:
            if time.monotonic() - self._checked_at < self.check_every_s:
                return self._fit
            self._checked_at = time.monotonic()
        assert self.replica is not None
        try:
            with self.replica.connection(timeout=2) as conn:
                lag_s = queries.replica_lag(conn)
        except (PoolTimeout, psycopg.OperationalError) as exc:
            self._unfit("replica away", exc)
            return False
        if lag_s is None or lag_s > self.max_lag_s:
            why = "not a standby" if lag_s is None else f"replica {lag_s:.0f} s behind"
            self._unfit(why, None)
            return False
        with self._lock:
            self._fit, self.state = True, "replica"
        return True

    def _unfit(self, why: str, exc: Exception | None) -> None:
        with self._lock:
            if self._fit or self.state == "replica":
                log.warning("reading from the primary: %s (%s)", why, exc or "")
            self._fit, self.state = False, f"primary: {why}"
            self._checked_at = time.monotonic()
