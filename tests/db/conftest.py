"""Fixtures of the database tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from dash import Dash


@pytest.fixture
def app(db_url: str) -> Iterator[Dash]:
    """The dashboard outside demo mode on this test's database, connected as
    its role (as `dispatchmap serve`), not served: requests go through
    ``app.server.test_client()``."""
    from dashboard.app import create_app
    from dispatchmap.settings import DashboardSettings, PresenceSettings
    from store.db import open_pool
    from store.roles import role_url

    pool = open_pool(role_url(db_url, "dashboard"), max_size=2)
    try:
        yield create_app(DashboardSettings(demo=False), PresenceSettings(), pool)
    finally:
        pool.close()
