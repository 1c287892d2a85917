"""The replay page: window picker, player controls, the map at a moment,
the unit list then, and the incident timeline. Pure builders."""

from __future__ import annotations

from typing import Any

import dash_leaflet as dl
from dash import dcc, html

from dashboard import ids
from dashboard.checks import MAX_TEXT_CHARS
from dashboard.layout.desk import labelled_field, page_header
from dashboard.layout.wall import basemap, centred_view, js

SPEEDS = (1, 2, 5, 10, 30, 60)
TRAIL_MINUTES = (0, 1, 2, 5, 10, 15)
STEP_S = 5
PLAY_EVERY_MS = 500
TRAIL_STYLE = {"color": "#f1c40f", "weight": 3, "opacity": 0.75}
# Solid and light: the beats are dashed blue.
AREA_STYLE = {"color": "#e6edf3", "weight": 2, "fillColor": "#e6edf3", "fillOpacity": 0.08}
EMPTY = {"type": "FeatureCollection", "features": []}
WHOLE_STATION = "whole station"
# Leaflet.draw's toolbar offers only the rectangle; its remove tool stays
# enabled (hidden in replay.css) because "clear all" empties the control
# after each drawing: the area is then drawn by its own layer, one at a time.
DRAW_OPTIONS = {
    "rectangle": {"shapeOptions": AREA_STYLE},
    **dict.fromkeys(("polyline", "polygon", "circle", "marker", "circlemarker"), False),
}


def _time_input(id_: str) -> dcc.Input:
    # The browser stops typing where the server's check (dashboard.checks) would refuse.
    return dcc.Input(id=id_, type="text", debounce=True, maxLength=MAX_TEXT_CHARS)


def error_id(name: str) -> str:
    return f"replay-{name}-error"


def _field(label: str, control: Any, name: str) -> html.Div:
    return labelled_field(label, control, error_id(name))


def window_picker(incidents: list[dict[str, Any]]) -> html.Div:
    """An incident (newest first) or explicit start and end times."""
    options = [{"label": r["label"], "value": r["id"]} for r in incidents]
    return html.Div(
        className="panel replay-window",
        children=[
            _field(
                "Incident",
                dcc.Dropdown(id=ids.REPLAY_INCIDENT, options=options, placeholder="choose…"),
                "incident",
            ),
            _field("Start", _time_input(ids.REPLAY_START), "start"),
            _field("End", _time_input(ids.REPLAY_END), "end"),
            html.Button("Load window", id=ids.REPLAY_LOAD, className="primary"),
            area_picker(),
        ],
    )


def area_picker() -> html.Div:
    """The area the window is limited to, and how to draw or clear it."""
    return html.Div(
        className="replay-area",
        children=[
            html.Div(
                [
                    "Area: ",
                    html.Span(WHOLE_STATION, id=ids.REPLAY_AREA_TEXT),
                    html.Button("Clear area", id=ids.REPLAY_AREA_CLEAR, className="link"),
                ]
            ),
            html.P(
                "Draw a rectangle on the map (▭, top right) to replay only the units "
                "with a fix in it during the window, and its incidents.",
                className="hint",
            ),
        ],
    )


def player() -> html.Div:
    """Play/pause, steps, speed, trail length, the slider and the time shown."""
    speed = dcc.Dropdown(
        id=ids.REPLAY_SPEED,
        options=[{"label": f"{s}×", "value": s} for s in SPEEDS],
        value=10,
        clearable=False,
    )
    trail = dcc.Dropdown(
        id=ids.REPLAY_TRAIL,
        options=[
            {"label": f"trail {m} min" if m else "no trail", "value": m} for m in TRAIL_MINUTES
        ],
        value=5,
        clearable=False,
    )
    return html.Div(
        className="panel replay-player",
        children=[
            html.Div(
                className="replay-controls",
                children=[
                    html.Button(f"−{STEP_S} s", id=ids.REPLAY_BACK),
                    html.Button("▶ Play", id=ids.REPLAY_PLAY, className="primary"),
                    html.Button(f"+{STEP_S} s", id=ids.REPLAY_FORWARD),
                    html.Div(speed, className="replay-speed"),
                    html.Div(trail, className="replay-trail"),
                    html.Div("no window", id=ids.REPLAY_TIME, className="replay-time"),
                ],
            ),
            dcc.Slider(
                id=ids.REPLAY_SLIDER,
                min=0,
                max=1,
                step=0.5,
                value=0,
                marks=None,
                updatemode="drag",
                allow_direct_input=False,
                disabled=True,
            ),
            dcc.Interval(id=ids.REPLAY_PLAYER, interval=PLAY_EVERY_MS, disabled=True),
        ],
    )


def replay_map(
    roads: dict[str, Any],
    beats: dict[str, Any],
    bounds: tuple[float, float, float, float] | None,
    tile_url: str | None,
    tile_attribution: str,
) -> dl.Map:
    view = centred_view(bounds)
    return dl.Map(
        id=ids.REPLAY_MAP,
        className="replay-map",
        preferCanvas=True,
        attributionControl=bool(tile_url),
        **view,
        children=[
            *basemap(roads, tile_url, tile_attribution),
            dl.GeoJSON(data=beats, style=js("beatStyle"), interactive=False),
            dl.GeoJSON(id=ids.REPLAY_AREA_LAYER, data=EMPTY, style=AREA_STYLE, interactive=False),
            dl.FeatureGroup(
                dl.EditControl(
                    id=ids.REPLAY_DRAW, draw=DRAW_OPTIONS, edit={"edit": False}, position="topright"
                )
            ),
            dl.GeoJSON(id=ids.REPLAY_TRAILS, data=EMPTY, style=TRAIL_STYLE, interactive=False),
            dl.GeoJSON(id=ids.REPLAY_INCIDENTS, data=EMPTY, pointToLayer=js("incidentMarker")),
            dl.GeoJSON(
                id=ids.REPLAY_UNITS,
                data=EMPTY,
                pointToLayer=js("unitMarker"),
                onEachFeature=js("unitTooltip"),
            ),
            dl.ScaleControl(position="bottomleft", imperial=False),
        ],
    )


def unit_table(rows: list[dict[str, Any]]) -> html.Table:
    """Every roster unit as it was at the moment shown."""
    head = html.Tr([html.Th(h) for h in ("Unit", "Kind", "Status", "Map", "km/h")])
    body = [
        html.Tr(
            [
                html.Td(r["call_sign"]),
                html.Td(r["kind"]),
                html.Td(r["status"], className=f"status-{r['status']}"),
                html.Td(r["presence"], className=f"presence-{r['presence']}"),
                html.Td(r["speed"]),
            ]
        )
        for r in rows
    ]
    return html.Table([head, *body], className="units")


def _ranked(rows: list[dict[str, Any]]) -> html.Ol:
    return html.Ol(
        [
            html.Li(
                f"{r['call_sign']} · {r['eta']}" + (" ← dispatched" if r["chosen"] else ""),
                className="chosen" if r["chosen"] else "",
            )
            for r in rows
        ],
        className="replay-ranked",
    )


def timeline(rows: list[dict[str, Any]], current_s: float | None = None) -> html.Div:
    """The incident's events; a click on one jumps the slider to it."""
    if not rows:
        return html.Div(html.P("No incident events in this window.", className="hint"))
    items = []
    for r in rows:
        label = " · ".join(p for p in (r["kind"].replace("_", " "), r["unit"]) if p)
        items.append(
            html.Li(
                className=f"replay-event kind-{r['kind']}",
                children=[
                    html.Button(
                        [html.Span(r["time"], className="replay-event-time"), " ", label],
                        id={"type": ids.REPLAY_EVENT, "event": r["id"], "at": r["offset_s"]},
                        className="link",
                        title=f"by {r['actor']}",
                    ),
                    _ranked(r["ranked"]) if r["ranked"] else None,
                    html.Div(r["detail"], className="replay-event-detail")
                    if r.get("detail")
                    else None,
                ],
            )
        )
    return html.Div(html.Ol(items, className="replay-timeline"))


def export_links(
    start_iso: str, end_iso: str, area: str | None = None, incident_id: int | None = None
) -> list[Any]:
    """Links to the window's export; ``area`` is the ``area`` parameter, if
    any; a window from an incident also links its one-page PDF report."""
    query = f"start={start_iso}&end={end_iso}".replace("+", "%2B")
    query += f"&area={area}" if area else ""
    links: list[Any] = [
        "Export: ",
        html.A("GeoJSON", href=f"/replay/export.geojson?{query}", download="replay.geojson"),
        " · ",
        html.A("CSV", href=f"/replay/export.csv?{query}", download="replay.csv"),
    ]
    if incident_id is not None:
        report = html.A(
            "PDF report", href=f"/replay/report.pdf?incident={incident_id}", id=ids.REPLAY_REPORT
        )
        links += [" · ", report]
    return links


def replay(
    *,
    user: str,
    role: str,
    incidents: list[dict[str, Any]],
    roads: dict[str, Any],
    beats: dict[str, Any],
    bounds: tuple[float, float, float, float] | None,
    tile_url: str | None,
    tile_attribution: str,
) -> html.Div:
    """The whole replay page."""
    return html.Div(
        className="desk replay",
        children=[
            page_header("replay", user, role),
            html.Div(
                className="replay-body",
                children=[
                    html.Div(
                        className="replay-left",
                        children=[
                            window_picker(incidents),
                            html.Div(id=ids.REPLAY_MESSAGE, className="desk-message"),
                            html.Div(id=ids.REPLAY_EXPORT, className="panel replay-export"),
                            html.Div(
                                className="panel",
                                children=[html.H3("Units then"), html.Div(id=ids.REPLAY_UNIT_LIST)],
                            ),
                        ],
                    ),
                    html.Div(
                        className="replay-center",
                        children=[
                            player(),
                            replay_map(roads, beats, bounds, tile_url, tile_attribution),
                        ],
                    ),
                    html.Div(
                        className="replay-right panel",
                        children=[html.H3("Incident timeline"), html.Div(id=ids.REPLAY_TIMELINE)],
                    ),
                ],
            ),
            dcc.Store(id=ids.REPLAY_WINDOW),
            dcc.Store(id=ids.REPLAY_AREA),
        ],
    )
