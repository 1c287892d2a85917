"""The wall display: a dark full-screen map with counters, watched from across the room."""

from __future__ import annotations

from typing import Any

import dash_leaflet as dl
from dash import dcc, html

from dashboard import ids
from dashboard.basemap import BUILDINGS_URL, WATER_URL
from dashboard.i18n import t
from dashboard.layout.live import units_layer, units_stores

OSM_ATTRIBUTION = "© OpenStreetMap contributors"
SHIFT_REFRESH_MS = 30000  # the shift's figures move slowly: a slower tick than the map's


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
    """The roads, water and buildings drawn from the loaded city, or a configured
    tile server instead. With no tile URL nothing is fetched from anywhere but
    this server: water and buildings come from its ``/basemap/*.geojson``."""
    if tile_url:
        return [dl.TileLayer(url=tile_url, attribution=attribution, maxZoom=20)]
    # Each pane gets its own canvas (preferCanvas): water, then buildings, under
    # the roads (250). Styles live in assets/basemap.js under ``dm.basemap``, as
    # map.js replaces ``dm.map`` whole and is loaded after it.
    areas = [
        dl.Pane(
            name=name,
            style={"zIndex": z_index},
            children=[
                dl.GeoJSON(url=url, style={"variable": f"dm.basemap.{style}"}, interactive=False)
            ],
        )
        for name, z_index, url, style in (
            ("water", 230, WATER_URL, "waterStyle"),
            ("buildings", 240, BUILDINGS_URL, "buildingStyle"),
        )
    ]
    # A GeoJSON layer's own attribution is not shown by the control, so the
    # ODbL credit for the roads goes in the control's prefix.
    return [
        dl.AttributionControl(prefix=f"{OSM_ATTRIBUTION} · Leaflet", position="bottomright"),
        *areas,
        dl.Pane(
            name="roads",
            style={"zIndex": 250},
            children=[
                dl.GeoJSON(
                    id=ids.ROADS,
                    data=roads,
                    style=js("roadStyle"),
                    interactive=False,
                    eventHandlers={"layeradd": js("roadNames")},  # names: assets/roadnames.js
                )
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
        untied_overlay(ids.WALL_UNTIED, lang),
        dl.Overlay(
            units_layer(ids.UNITS),
            name=t("Units", lang),
            checked=True,
        ),
    ]


def untied_overlay(layer_id: str, lang: str = "en") -> dl.Overlay:
    """Devices tied to no unit, drawn by ``assets/devices.js``; empty until the
    first tick (``callbacks/devices.py``) fills it."""
    return dl.Overlay(
        dl.GeoJSON(
            id=layer_id,
            data={"type": "FeatureCollection", "features": []},
            pointToLayer=js("untiedMarker"),
        ),
        name=t("Untied devices", lang),
        checked=True,
    )


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
            ),
            html.Div([html.Span(className="untied-glyph"), t("Untied devices", lang)]),
            html.Div(id=ids.WALL_UNTIED_MORE, className="untied-more"),
        ],
    )


def untied_note(more: int, lang: str = "en") -> str:
    """What a map says of the untied devices its layer leaves out (see
    ``DashboardSettings.untied_shown``); "" when it draws them all."""
    return t("{more} more untied devices not shown", lang, more=more) if more > 0 else ""


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
            shift_panel(lang),
            legend(lang),
            html.Div(id=ids.LAST_UPDATE, className="last-update"),
            dcc.Interval(id=ids.TICK, interval=refresh_ms),
            *units_stores(ids.UNITS_DELTA, ids.UNITS_VERSION),
            dcc.Store(id=ids.WALL_UNTIED_KEY),  # what the untied-devices layer shows
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
            className=f"alarm-chip severity-{a['severity']}"
            + (" fresh" if a["fresh"] else "")
            + (" taken" if a.get("taken_by") else ""),
        )
        for a in alarms
    ]


def _chart(title: str, graph_id: str) -> html.Div:
    return html.Div(
        className="shift-chart",
        children=[
            html.Div(title, className="shift-chart-title"),
            dcc.Graph(
                id=graph_id,
                # Static: nothing to hover or zoom on a wall, and no mode bar.
                config={"displayModeBar": False, "staticPlot": True, "responsive": True},
                className="shift-graph",
            ),
        ],
    )


def shift_panel(lang: str = "en") -> html.Div:
    """The side panel of the shift: its response clock tiles and three small
    charts, filled by ``callbacks/wall_charts.py`` on their own slower tick."""
    return html.Div(
        className="wall-shift",
        children=[
            html.Div(id=ids.WALL_SHIFT, className="shift-tiles"),
            _chart(t("Incidents per hour", lang), ids.WALL_CHART_INCIDENTS),
            _chart(t("Acknowledgement time (签收), s", lang), ids.WALL_CHART_ACK),
            _chart(t("Time to scene (到场), min", lang), ids.WALL_CHART_ARRIVAL),
            dcc.Interval(id=ids.WALL_CHARTS_TICK, interval=SHIFT_REFRESH_MS),
        ],
    )


def share_grade(share: float | None) -> str:
    """A CSS grade for a share of the target met: good ≥ 90 %, fair ≥ 70 %."""
    if share is None:
        return "none"
    return "good" if share >= 0.9 else "fair" if share >= 0.7 else "poor"


def _share_tile(share: float | None, in_time: int, counted: int, label: str) -> html.Div:
    return html.Div(
        className=f"tile shift-share {share_grade(share)}",
        children=[
            html.Div("–" if share is None else f"{share * 100:.0f} %", className="count"),
            html.Div(label, className="label"),
            html.Div(f"{in_time} / {counted}", className="of"),
        ],
    )


def shift_tiles(figures: dict[str, Any], started: str, lang: str = "en") -> list[html.Div]:
    """The shift's response clock (see ``geo.response.shift_figures``): when the
    shift began (local ``started``), then two large tiles of shares met."""
    return [
        html.Div(t("Shift since {time}", lang, time=started), className="shift-title"),
        html.Div(
            className="shift-shares",
            children=[
                _share_tile(
                    figures["ack_share"],
                    figures["ack_in_time"],
                    figures["ack_counted"],
                    t("acknowledged ≤ 30 s", lang),
                ),
                _share_tile(
                    figures["reached_share"],
                    figures["reached_in_time"],
                    figures["reached_counted"],
                    t("P1–P2 on scene ≤ 5 min", lang),
                ),
            ],
        ),
    ]
