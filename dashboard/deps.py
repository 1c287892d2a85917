"""What callbacks need, handed to ``register(app, deps)`` by ``create_app``."""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import psycopg
from psycopg_pool import ConnectionPool

from dashboard.reads import ReadSource
from dispatchmap.settings import DashboardSettings, DispatchSettings, PresenceSettings
from geo.routing import Router


@dataclass(frozen=True)
class Deps:
    pool: ConnectionPool
    dash: DashboardSettings
    presence: PresenceSettings
    tz: ZoneInfo
    dispatch: DispatchSettings = field(default_factory=DispatchSettings)
    # Where the pages' ticks read (dashboard.reads): the replica when one is
    # configured and keeps up; None: the primary, ``pool``.
    reads: ReadSource | None = None
    _router: list[Router] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def read(self) -> AbstractContextManager[psycopg.Connection]:
        """A connection for a page's reads (never for a write)."""
        return self.reads.connection() if self.reads else self.pool.connection()

    def router(self) -> Router:
        """The car router, built from the database the first time it is asked for."""
        from usecases.incidents import load_router

        with self._lock:
            if not self._router:
                with self.pool.connection() as conn:
                    self._router.append(load_router(conn))
            return self._router[0]
