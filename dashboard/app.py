"""``create_app(settings, presence, pool)``: the Dash app, nothing at import time.

Everything the page loads is served by this process (``serve_locally``, no
CDN, no version check, no online tiles unless a tile URL is configured).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from dash import Dash, Input, Output, dcc, html
from flask_compress import Compress
from psycopg_pool import ConnectionPool, PoolTimeout
from werkzeug.middleware.proxy_fix import ProxyFix

from dashboard import auth, basemap, checks, http_guard, ids, signin, video_proxy, views
from dashboard.callbacks import admin as admin_callbacks
from dashboard.callbacks import desk as desk_callbacks
from dashboard.callbacks import devices as device_callbacks
from dashboard.callbacks import quality as quality_callbacks
from dashboard.callbacks import replay as replay_callbacks
from dashboard.callbacks import video as video_callbacks
from dashboard.callbacks import wall as wall_callbacks
from dashboard.callbacks import wall_charts as wall_chart_callbacks
from dashboard.deps import Deps
from dashboard.layout.wall import wall
from dashboard.reads import ReadSource
from dashboard.routes import report as report_routes
from dispatchmap.settings import DashboardSettings, PresenceSettings, VideoSettings
from store import cameras
from store import city as city_store

ASSETS = Path(__file__).resolve().parent / "assets"


def wall_page(deps: Deps) -> html.Div:
    """Build the wall with the city's static layers read once per page load."""
    with deps.pool.connection() as conn:
        roads = city_store.roads_geojson(conn)
        beats = city_store.beats_geojson(conn)
        cams = cameras.cameras(conn)
        health = {h["camera_id"]: h["status"] for h in cameras.camera_health(conn)}
        stations = city_store.stations(conn)
        bounds = city_store.city_extent(conn)
    return wall(
        roads=roads,
        beats=beats,
        stations=views.stations_geojson(stations),
        cameras=views.cameras_geojson(cams, health),
        cones=views.camera_cones_geojson(cams),
        bounds=bounds,
        tile_url=deps.dash.tile_url,
        tile_attribution=deps.dash.tile_attribution,
        refresh_ms=deps.dash.refresh_ms,
        demo=deps.dash.demo,
        lang=deps.dash.language,
    )


def not_found(path: str) -> html.Div:
    return html.Div(
        className="not-found",
        children=[
            html.H1("Not found"),
            html.P(f"No page at {path}."),
            dcc.Link("Go to the wall", href="/wall"),
        ],
    )


def not_allowed(path: str) -> html.Div:
    return html.Div(
        className="not-found",
        children=[
            html.H1("Not allowed"),
            html.P(f"Your sign-in does not open {path}."),
            html.A("Sign in", href=f"/login?next={path}"),
        ],
    )


def _compress(app: Dash) -> None:
    """Compressed answers (a wall tick's 17 kB of JSON is about 2 kB gzipped),
    and assets cached for a day: their URLs change with the file (``?m=``)."""
    app.server.config.update(
        COMPRESS_MIMETYPES=[
            "application/json",
            "text/html",
            "text/css",
            "text/csv",
            "application/javascript",
            "text/javascript",
            "application/geo+json",
        ],
        COMPRESS_ALGORITHM=["br", "gzip"],
        COMPRESS_BR_LEVEL=4,
        COMPRESS_MIN_SIZE=512,
        # flask-compress swaps a streamed body for its own generator and the
        # file behind it (an asset from send_file) is then never closed: only
        # whole answers (callbacks, pages, Dash's bundles) are compressed.
        COMPRESS_STREAMS=False,
        SEND_FILE_MAX_AGE_DEFAULT=86400,
    )
    Compress(app.server)


def create_app(
    dash_cfg: DashboardSettings,
    presence: PresenceSettings,
    pool: ConnectionPool,
    read_pool: ConnectionPool | None = None,
) -> Dash:
    """A ready Dash app; the caller owns ``pool`` (the primary) and
    ``read_pool`` (a streaming replica the pages' ticks read from while it
    keeps up; see dashboard.reads) and closes them."""
    reads = ReadSource(pool, read_pool, max_lag_s=dash_cfg.replica_max_lag_s)
    deps = Deps(
        pool=pool, dash=dash_cfg, presence=presence, tz=ZoneInfo(dash_cfg.timezone), reads=reads
    )
    app = Dash(
        __name__,
        assets_folder=str(ASSETS),
        serve_locally=True,
        title="dispatchmap",
        update_title="",
        suppress_callback_exceptions=True,
        # Dash's MCP endpoint (DASH_MCP_ENABLED) would run callbacks past auth's check.
        enable_mcp=False,
    )
    app.layout = html.Div([dcc.Location(id=ids.URL), html.Div(id=ids.PAGE)])
    if dash_cfg.proxy_hops:
        # Behind nginx every request comes from 127.0.0.1: the throttle's
        # per-address count and the audit log need the client's address.
        hops = dash_cfg.proxy_hops
        app.server.wsgi_app = ProxyFix(app.server.wsgi_app, x_for=hops, x_proto=hops)
    _compress(app)

    @app.callback(Output(ids.PAGE, "children"), Input(ids.URL, "pathname"))
    def route(pathname: str | None) -> Any:
        pathname = checks.text(pathname, "pathname", checks.MAX_PATH_CHARS) or None
        if not auth.page_allowed(pool, pathname or "/wall", dash_cfg.demo):
            return not_allowed(pathname or "/wall")
        if pathname in (None, "/", "/wall"):
            return wall_page(deps)
        if pathname == "/desk":
            return desk_callbacks.page(deps)
        if pathname == "/quality":
            return quality_callbacks.page(deps)
        if pathname == "/replay":
            return replay_callbacks.page(deps)
        if pathname == "/admin":
            return admin_callbacks.page(deps)
        return not_found(pathname)

    @app.server.get("/healthz")
    def healthz() -> tuple[str, int]:
        try:
            with pool.connection(timeout=2) as conn:
                conn.execute("SELECT 1")
        except (PoolTimeout, psycopg.Error):
            return "database unavailable", 503
        return "ok", 200

    http_guard.install(
        app.server,
        pool,
        dash_cfg.allowed_host_names(),
        app.csp_hashes,
        dash_cfg.tile_url,
    )
    auth.install(
        app.server,
        pool,
        app.callback_map,
        demo=dash_cfg.demo,
        session_hours=dash_cfg.session_hours,
        secure_cookies=dash_cfg.secure_cookies,
        gate=signin.Gate(dash_cfg),
        demo_login=dash_cfg.demo_login,
    )
    checks.install(app.server, pool)
    basemap.install(app.server, pool, demo=dash_cfg.demo)
    video = VideoSettings()
    video_proxy.install(app.server, pool, video.rtsp_relay_url, video.wall_pictures)
    wall_callbacks.register(app, deps)
    wall_chart_callbacks.register(app, deps)
    device_callbacks.register(app, deps)
    desk_callbacks.register(app, deps)
    quality_callbacks.register(app, deps)
    replay_callbacks.register(app, deps)
    report_routes.register(app, deps)
    admin_callbacks.register(app, deps)
    video_callbacks.register(app, deps)
    return app
