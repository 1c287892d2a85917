"""Video callbacks: camera health on the wall's map and the quality page."""

from __future__ import annotations

import threading
from typing import Any

from dash import Dash, Input, Output, no_update

from dashboard import auth, checks, ids, views
from dashboard.deps import Deps
from dashboard.layout.video import camera_health_table, escape_geojson, video_grid
from geo.cameras import rank_for
from geo.routing import Router
from store import cameras
from store import incidents as incident_store
from usecases.escape import escape_rows, load_foot_router

CAMERA_SEARCH_M = 400.0  # as far as the desk's camera list looks
HEALTH_EVERY_MS = 5000  # the check runs every DM_VIDEO_HEALTH_INTERVAL_S (10 s)


def register(app: Dash, deps: Deps) -> None:
    every = max(1, round(HEALTH_EVERY_MS / deps.dash.refresh_ms))

    @app.callback(Output(ids.CAMERAS, "data"), Input(ids.TICK, "n_intervals"))
    def wall_cameras(n: int | None) -> Any:
        if n is not None and checks.integer(n, "n_intervals") % every:
            return no_update
        with deps.read() as conn:
            health = {h["camera_id"]: h["status"] for h in cameras.camera_health(conn)}
            return views.cameras_geojson(cameras.cameras(conn), health)

    @app.callback(Output(ids.QUALITY_CAMERAS, "children"), Input(ids.QUALITY_TICK, "n_intervals"))
    def quality_cameras(_n: int | None) -> Any:
        auth.require(deps.pool, "view_quality", "view_quality")
        with deps.read() as conn:
            rows = cameras.camera_health(conn)
        return camera_health_table(rows, deps.tz, deps.dash.language)

    foot = _FootRouter()

    @app.callback(
        Output(ids.DESK_VIDEO, "children"),
        Output(ids.DESK_ESCAPE, "data"),
        Input(ids.DESK_SELECTED, "data"),
        Input(ids.DESK_VIDEO_ORDER, "value"),
    )
    def desk_pictures(incident_id: Any, order: Any) -> Any:
        user = auth.require(deps.pool, "view_desk", "view_desk")
        if incident_id is None:
            return [], escape_geojson([])
        incident = checks.integer(incident_id, "incident", 1)
        fleeing = escape_cameras(deps, foot.get(deps), incident)
        by_spot = checks.one_of(order or "spot", "order", ("spot", "escape")) == "spot"
        rows = covering_cameras(deps, incident) if by_spot else fleeing
        grid = video_grid(rows, user.may("view_video"), deps.dash.language)
        return grid, escape_geojson(fleeing)


def covering_cameras(deps: Deps, incident_id: int) -> list[dict[str, Any]]:
    """Cameras near the incident, each with its ``health``: those whose view
    holds it first, then the nearest (geo.cameras.rank_for); none for an
    unknown incident."""
    with deps.read() as conn:
        row = incident_store.incident(conn, incident_id)
        if row is None:
            return []
        near = cameras.cameras_near(conn, row["lon"], row["lat"], CAMERA_SEARCH_M)
        health = {h["camera_id"]: h["status"] for h in cameras.camera_health(conn)}
    return [{**c, "health": health.get(c["id"])} for c in rank_for(near, row["lon"], row["lat"])]


def escape_cameras(deps: Deps, foot: Router, incident_id: int) -> list[dict[str, Any]]:
    """usecases.escape.escape_rows with each camera's ``health``."""
    with deps.read() as conn:
        rows = escape_rows(conn, deps.router(), foot, incident_id)
        health = {h["camera_id"]: h["status"] for h in cameras.camera_health(conn)}
    return [{**r, "health": health.get(r["id"])} for r in rows]


class _FootRouter:
    """The foot router, built from the database the first time it is asked for."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._router: Router | None = None

    def get(self, deps: Deps) -> Router:
        with self._lock:
            if self._router is None:
                with deps.pool.connection() as conn:
                    self._router = load_foot_router(conn)
            return self._router
