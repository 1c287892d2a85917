"""What callbacks need, handed to ``register(app, deps)`` by ``create_app``."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from psycopg_pool import ConnectionPool

from dispatchmap.settings import DashboardSettings, PresenceSettings


@dataclass(frozen=True)
class Deps:
    pool: ConnectionPool
    dash: DashboardSettings
    presence: PresenceSettings
    tz: ZoneInfo
