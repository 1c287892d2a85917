"""Video callbacks: camera health on the wall's map and the quality page."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, no_update

from dashboard import auth, checks, ids, views
from dashboard.deps import Deps
from dashboard.layout.video import camera_health_table
from geo import queries
from store import cameras

HEALTH_EVERY_MS = 5000  # the check runs every DM_VIDEO_HEALTH_INTERVAL_S (10 s)


def register(app: Dash, deps: Deps) -> None:
    every = max(1, round(HEALTH_EVERY_MS / deps.dash.refresh_ms))

    @app.callback(Output(ids.CAMERAS, "data"), Input(ids.TICK, "n_intervals"))
    def wall_cameras(n: int | None) -> Any:
        if n is not None and checks.integer(n, "n_intervals") % every:
            return no_update
        with deps.read() as conn:
            health = {h["camera_id"]: h["status"] for h in cameras.camera_health(conn)}
            return views.cameras_geojson(queries.cameras(conn), health)

    @app.callback(Output(ids.QUALITY_CAMERAS, "children"), Input(ids.QUALITY_TICK, "n_intervals"))
    def quality_cameras(_n: int | None) -> Any:
        auth.require(deps.pool, "view_quality", "view_quality")
        with deps.read() as conn:
            rows = cameras.camera_health(conn)
        return camera_health_table(rows, deps.tz, deps.dash.language)
