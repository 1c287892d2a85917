"""The wall display: a dark full-screen map with counters, watched from across the room."""

from __future__ import annotations

from typing import Any

import dash_leaflet as dl
from dash import dcc, html

from dashboard import ids
from dashboard.i18n import t

OSM_ATTRIBUTION = "© OpenStreetMap contributors"


def js(name: str) -> dict[str, str]:
    """A reference to a function in ``assets/map.js`` (``window.dm.map.<name>``)."""
    return {"variable": f"dm.map.{name}"}


def centred_view(bounds: tuple[float, float, float, float] | None) -> dict[str, Any]:
    """Centre and zoom on the city (min_lon, min_lat, max_lon, max_lat). Not
    bounds: a map laid out in a grid cell has no size yet when Leaflet would
    fit them, which put the city off to one side."""
    if not bounds:
        return {"center": [0, 0], "zoom": 2}
    return {"center": [(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2], "zoom": 15}


def basemap(roads: dict[str, Any], tile_url: str | None, attribution: str) -> list[Any]:
    """The roads drawn from the loaded city, or a configured tile server instead.
    With no tile URL nothing is fetched from anywhere but this server."""
    if tile_url:
        return [dl.TileLayer(url=tile_url, attribution=attribution, maxZoom=20)]
    # A GeoJSON layer's own attribution is not shown by the control, so the
    # ODbL credit for the roads goes in the control's prefix.
    return [
        dl.AttributionControl(prefix=f"{OSM_ATTRIBUTION} · Leaflet", position="bottomright"),
        dl.Pane(
            name="roads",
            style={"zIndex": 250},
            children=[
                dl.GeoJSON(id=ids.ROADS, data=roads, style=js("roadStyle"), interactive=False)
            ],
        ),
    ]


def overlays(
    beats: dict[str, Any],
    stations: dict[str, Any],
    cameras: dict[str, Any],
    cones: dict[str, Any],
    lang: str = "en",
) -> list[Any]:
    return [
        dl.Overlay(
            dl.GeoJSON(
                id=ids.BEATS, data=beats, style=js("beatStyle"), onEachFeature=js("beatLabel")
            ),
            name=t("Beats", lang),
            checked=True,
        ),
        dl.Overlay(
            dl.GeoJSON(id=ids.CONES, data=cones, style=js("coneStyle"), interactive=False),
            name=t("Camera view", lang),
            checked=False,
        ),
        dl.Overlay(
            dl.GeoJSON(id=ids.CAMERAS, data=cameras, pointToLayer=js("cameraMarker")),
            name=t("Cameras", lang),
            checked=True,
        ),
        dl.Overlay(
            dl.GeoJSON(id=ids.STATION, data=stations, pointToLayer=js("stationMarker")),
            name=t("Station", lang),
            checked=True,
        ),
        dl.Overlay(
            dl.GeoJSON(
                id=ids.WALL_INCIDENTS,
                data={"type": "FeatureCollection", "features": []},
                pointToLayer=js("incidentMarker"),
            ),
            name=t("Incidents", lang),
            checked=True,
        ),
        dl.Overlay(
            dl.GeoJSON(
                id=ids.UNITS,
                data={"type": "FeatureCollection", "features": []},
                pointToLayer=js("unitMarker"),
                onEachFeature=js("unitTooltip"),
            ),
            name=t("Units", lang),
            checked=True,
        ),
    ]


def legend(lang: str = "en") -> html.Div:
    items = [
        ("online", t("Online", lang)),
        ("stale", t("Stale fix", lang)),
        ("offline", t("Offline", lang)),
    ]
    return html.Div(
        className="legend",
        children=[
            html.Div([html.Span(className=f"dot presence-{key}"), label]) for key, label in items
        ]
        + [
            html.Div(
                [
                    html.Span("▲", className="kind-glyph"),
                    f" {t('car', lang)}  ",
                    html.Span("◆", className="kind-glyph"),
                    f" {t('motorbike', lang)}  ",
                    html.Span("●", className="kind-glyph"),
                    f" {t('foot', lang)}",
                ]
            )
        ],
    )


def header(demo: bool, lang: str = "en") -> html.Div:
    return html.Div(
        className="wall-header",
        children=[
            html.Div("dispatchmap · wall", className="wall-title"),
            html.Div(t("DEMO MODE: simulated fleet", lang), className="demo-badge")
            if demo
            else None,
            html.Div(id=ids.COUNTERS, className="wall-counters"),
            html.Div(id=ids.WALL_INCIDENT_COUNTS, className="wall-counters incidents"),
            html.Div(id=ids.WALL_QUALITY, className="tile wall-quality"),
            html.Div(id=ids.CLOCK, className="wall-clock"),
        ],
    )


def wall(
    *,
    roads: dict[str, Any],
    beats: dict[str, Any],
    stations: dict[str, Any],
    cameras: dict[str, Any],
    cones: dict[str, Any],
    bounds: tuple[float, float, float, float] | None,
    tile_url: str | None,
    tile_attribution: str,
    refresh_ms: int,
    demo: bool,
    lang: str = "en",
) -> html.Div:
    """The whole wall page. ``bounds`` (min_lon, min_lat, max_lon, max_lat) frames the map."""
    view: dict[str, Any] = {"center": [0, 0], "zoom": 2}
    if bounds:
        # dash-leaflet's viewport tracking reads ``center`` even when ``bounds``
        # frames the map; without it every move logs a TypeError.
        view = {
            "bounds": [[bounds[1], bounds[0]], [bounds[3], bounds[2]]],
            "center": [(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2],
            "zoom": 15,
        }
    return html.Div(
        className="wall",
        children=[
            header(demo, lang),
            html.Div(id=ids.WALL_ALARMS, className="alarm-strip"),
            dl.Map(
                id=ids.MAP,
                className="wall-map",
                zoomSnap=0.25,
                preferCanvas=True,
                attributionControl=bool(tile_url),
                **view,
                children=[
                    *basemap(roads, tile_url, tile_attribution),
                    dl.LayersControl(
                        overlays(beats, stations, cameras, cones, lang), collapsed=False
                    ),
                    dl.ScaleControl(position="bottomleft", imperial=False),
                ],
            ),
            legend(lang),
            html.Div(id=ids.LAST_UPDATE, className="last-update"),
            dcc.Interval(id=ids.TICK, interval=refresh_ms),
        ],
    )


def counters(
    presence: dict[str, int], statuses: dict[str, int], lang: str = "en"
) -> list[html.Div]:
    """The counter tiles: units by presence, then by dispatch status."""
    tiles = [
        html.Div(
            [html.Div(str(n), className="count"), html.Div(t(key.replace("_", " "), lang))],
            className=f"tile presence-{key}",
        )
        for key, n in presence.items()
    ]
    tiles += [
        html.Div(
            [html.Div(str(n), className="count"), html.Div(t(key.replace("_", " "), lang))],
            className="tile status",
        )
        for key, n in statuses.items()
    ]
    return tiles


def incident_counts(by_priority: dict[int, int], lang: str = "en") -> list[html.Div]:
    """Open incidents by priority; P1 in red."""
    return [
        html.Div(
            [
                html.Div(str(by_priority.get(p, 0)), className="count"),
                html.Div(f"P{p} {t('open', lang)}"),
            ],
            className=f"tile incident-p{p}",
        )
        for p in (1, 2, 3, 4)
    ]


def alarm_strip(alarms: list[dict[str, Any]], lang: str = "en") -> list[html.Div]:
    """One chip per alarm, most severe first; a new one (``fresh``) flashes."""
    if not alarms:
        return [html.Div(t("No alarms", lang), className="alarm-chip calm")]
    return [
        html.Div(
            a["text"],
            className=f"alarm-chip severity-{a['severity']}" + (" fresh" if a["fresh"] else ""),
        )
        for a in alarms
    ]
