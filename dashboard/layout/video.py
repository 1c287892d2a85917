"""Video on the pages: camera health for the quality page, the desk's
picture grid. Pure builders; the pictures come through dashboard/video_proxy.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import dash_leaflet as dl
from dash import dcc, html

from dashboard import ids
from dashboard.i18n import t
from dashboard.layout.wall import js

HEALTH_LABEL = {
    "online": "online",
    "no_signal": "no signal",
    "unreachable": "unreachable",
    "unchecked": "unchecked",
}
# The darkest first, so a dead camera is at the top of the table.
HEALTH_RANK = {"unreachable": 0, "no_signal": 1, "unchecked": 2, None: 3, "online": 4}


def _clock(at: datetime | None, tz: ZoneInfo) -> str:
    return "–" if at is None else at.astimezone(tz).strftime("%H:%M:%S")


def camera_health_table(rows: list[dict[str, Any]], tz: ZoneInfo, lang: str = "en") -> html.Div:
    """Every camera's health (rows of store.cameras.camera_health), dark ones
    first, with since when it holds, when it was last checked and why."""
    ordered = sorted(rows, key=lambda r: (HEALTH_RANK.get(r["status"], 3), r["camera_id"]))
    counts = {s: sum(1 for r in rows if r["status"] == s) for s in HEALTH_LABEL}
    summary = " · ".join(f"{n} {t(HEALTH_LABEL[s], lang)}" for s, n in counts.items() if n)
    head = ["Camera", "Health", "Since", "Checked", "Why"]
    return html.Div(
        [
            html.P(summary or t("unchecked", lang), className="muted"),
            html.Table(
                [
                    html.Thead(html.Tr([html.Th(h) for h in head])),
                    html.Tbody([_row(r, tz, lang) for r in ordered]),
                ],
                className="camera-health",
            ),
        ]
    )


def _row(r: dict[str, Any], tz: ZoneInfo, lang: str) -> html.Tr:
    status = r["status"] or "unchecked"
    return html.Tr(
        [
            html.Td(f"{r['camera_id']} {r['name']}"),
            html.Td(t(HEALTH_LABEL.get(status, status), lang), className=f"health-{status}"),
            html.Td(_clock(r["changed_at"], tz)),
            html.Td(_clock(r["checked_at"], tz)),
            html.Td(r["detail"] or ""),
        ],
        id=f"camera-health-{r['camera_id']}",
    )


GRID_MAX = 4  # pictures side by side on the desk


def video_panel(lang: str = "en") -> html.Div:
    """The desk's picture grid, filled for the selected incident."""
    return html.Div(
        className="panel",
        children=[
            html.H3(t("Pictures", lang)),
            dcc.RadioItems(
                id=ids.DESK_VIDEO_ORDER,
                options=[
                    {"label": t("seeing the spot first", lang), "value": "spot"},
                    {"label": t("along the escape routes (3 min)", lang), "value": "escape"},
                ],
                value="spot",
                inline=True,
            ),
            html.Div(id=ids.DESK_VIDEO, className="video-grid"),
        ],
    )


def video_grid(rows: list[dict[str, Any]], may_watch: bool, lang: str = "en") -> Any:
    """One tile per camera in ``rows`` (best first, at most GRID_MAX, each
    with its ``health``): a live picture played through the proxy when it is
    online, its health otherwise; a line instead when the user may not watch
    or no camera is near."""
    if not may_watch:
        return html.P(t("Pictures need the view_video right", lang), className="muted")
    if not rows:
        return html.P(t("No camera near the incident", lang), className="muted")
    return [_tile(r, lang) for r in rows[:GRID_MAX]]


def escape_layer() -> dl.GeoJSON:
    """The desk map's escape-route cameras (filled with the picture grid)."""
    empty: dict[str, Any] = {"type": "FeatureCollection", "features": []}
    return dl.GeoJSON(id=ids.DESK_ESCAPE, data=empty, pointToLayer=js("escapeCameraMarker"))


def escape_geojson(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Escape-route cameras as points with their times (s) and band (s)."""
    keys = ("id", "name", "car_s", "foot_s", "first_s", "band_s")
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
                "properties": {k: r[k] for k in keys},
            }
            for r in rows
        ],
    }


def _when(r: dict[str, Any], lang: str) -> str:
    """`` · car 0:15 · foot 0:35`` for an escape-route camera, else ''."""
    parts = [
        f"{t(label, lang)} {int(r[key]) // 60}:{int(r[key]) % 60:02d}"
        for key, label in (("car_s", "by car"), ("foot_s", "on foot"))
        if r.get(key) is not None
    ]
    return "".join(" · " + p for p in parts)


def _tile(r: dict[str, Any], lang: str) -> html.Div:
    sees = t(" · sees the incident", lang) if r.get("covers") else ""
    sees += _when(r, lang)
    health = r.get("health") or "unchecked"
    # Only a camera the background check found online gets a player; the
    # others say why instead of a player that would fail.
    picture = (
        _video(r["id"])
        if health == "online"
        else html.Div(t(HEALTH_LABEL.get(health, health), lang), className="video-none")
    )
    return html.Div(
        id=f"desk-tile-{r['id']}",
        className=f"video-tile health-{health}",
        children=[
            picture,
            html.Div(f"{r['name']}{_distance(r)}{sees}", className="video-caption"),
        ],
    )


def _distance(r: dict[str, Any]) -> str:
    return f" · {r['distance_m']:.0f} m" if r.get("distance_m") is not None else ""


def _video(camera_id: str) -> html.Video:
    # data-hls is picked up by assets/video.js (hls.js); Dash's typed
    # signature has no data-* keywords, hence the dict.
    attrs: dict[str, Any] = {"data-hls": f"/video/{camera_id}/index.m3u8"}
    return html.Video(
        id=f"desk-video-{camera_id}",
        muted=True,
        autoPlay=True,
        controls=True,
        className="video",
        **attrs,
    )
