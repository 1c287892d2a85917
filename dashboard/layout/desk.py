"""The shift commander's desk: incident queue, new incident, map, the
selected incident's suggestions and orders, cameras, and the unit list."""

from __future__ import annotations

from typing import Any

import dash_leaflet as dl
from dash import dcc, html

from dashboard import ids
from dashboard.layout.wall import basemap, centred_view, js

NEW_FIELDS = ("type", "priority", "lat", "lon", "notes")


def field_error_id(name: str) -> str:
    return f"new-{name}-error"


def labelled_field(label: str, control: Any, error_id: str) -> html.Div:
    """A form control with its label and, under it, where its refusal is shown."""
    return html.Div(
        className="field",
        children=[
            html.Label(label, htmlFor=control.id),
            control,
            html.Div(id=error_id, className="field-error"),
        ],
    )


def _field(label: str, control: Any, name: str) -> html.Div:
    return labelled_field(label, control, field_error_id(name))


def page_header(title: str, user: str, role: str) -> html.Div:
    """The signed-in pages' header: page name, who is signed in, sign-out."""
    return html.Div(
        className="desk-header",
        children=[
            html.Div(f"dispatchmap · {title}", className="desk-title"),
            html.Div(f"{user} ({role})", className="desk-user"),
            html.Form(html.Button("Sign out", type="submit"), method="post", action="/logout"),
        ],
    )


def new_incident_form(types: list[dict[str, Any]]) -> html.Div:
    options = [{"label": f"{t['name_en']} · {t['name_zh']}", "value": t["id"]} for t in types]
    return html.Div(
        className="panel new-incident",
        children=[
            html.H3("New incident (click the map for the place)"),
            _field("Type", dcc.Dropdown(id=ids.NEW_TYPE, options=options, clearable=False), "type"),
            _field(
                "Priority",
                dcc.Dropdown(
                    id=ids.NEW_PRIORITY,
                    options=[{"label": "type default", "value": ""}]
                    + [{"label": f"P{p}", "value": str(p)} for p in range(1, 5)],
                    value="",
                ),
                "priority",
            ),
            html.Div(
                className="row",
                children=[
                    _field("Latitude", dcc.Input(id=ids.NEW_LAT, type="text"), "lat"),
                    _field("Longitude", dcc.Input(id=ids.NEW_LON, type="text"), "lon"),
                ],
            ),
            _field("Notes", dcc.Textarea(id=ids.NEW_NOTES, rows=2), "notes"),
            html.Button("Create incident", id=ids.NEW_CREATE, className="primary"),
        ],
    )


def queue_table(rows: list[dict[str, Any]]) -> html.Table:
    """The queue, most urgent first; a click on a row selects the incident.
    An unassigned P1 is marked so it catches the eye."""
    head = html.Tr([html.Th(h) for h in ("P", "#", "Type", "Status", "Waiting", "Units")])
    body = [
        html.Tr(
            className="unassigned-p1" if r["unassigned_p1"] else "",
            children=[
                html.Td(f"P{r['priority']}"),
                html.Td(
                    html.Button(
                        f"#{r['id']}",
                        id={"type": ids.QUEUE_ROW, "incident": r["id"]},
                        className="link",
                    )
                ),
                html.Td(r["type_label"]),
                html.Td(r["status"]),
                html.Td(r["waiting"]),
                html.Td(r["units"]),
            ],
        )
        for r in rows
    ]
    return html.Table([head, *body], className="queue")


def unit_filters() -> html.Div:
    return html.Div(
        className="row",
        children=[
            dcc.Input(id=ids.UNIT_SEARCH, placeholder="call sign, talkgroup…", type="text"),
            dcc.Dropdown(
                id=ids.UNIT_KIND, options=["car", "motorbike", "foot"], placeholder="kind"
            ),
            dcc.Dropdown(
                id=ids.UNIT_STATUS,
                placeholder="status",
                options=[
                    "available",
                    "dispatched",
                    "acknowledged",
                    "enroute",
                    "onscene",
                    "busy",
                    "out_of_service",
                    "off_duty",
                ],
            ),
        ],
    )


def unit_table(rows: list[dict[str, Any]]) -> html.Table:
    """Roster units; a click on a call sign centres the map on the unit."""
    head = html.Tr(
        [html.Th(h) for h in ("Unit", "Kind", "Status", "Beat", "Presence", "Talkgroup", "Phone")]
    )
    body = [
        html.Tr(
            [
                html.Td(
                    html.Button(
                        r["call_sign"], id={"type": ids.UNIT_ROW, "unit": r["id"]}, className="link"
                    )
                ),
                html.Td(r["kind"]),
                html.Td(r["status"]),
                html.Td(r["beat"]),
                html.Td(r["presence"], className=f"presence-{r['presence']}"),
                html.Td(r["talkgroup"]),
                html.Td(r["phone"]),
            ]
        )
        for r in rows
    ]
    return html.Table([head, *body], className="units")


def desk_map(
    roads: dict[str, Any],
    beats: dict[str, Any],
    bounds: tuple[float, float, float, float] | None,
    tile_url: str | None,
    tile_attribution: str,
) -> dl.Map:
    view = centred_view(bounds)
    empty = {"type": "FeatureCollection", "features": []}
    return dl.Map(
        id=ids.DESK_MAP,
        className="desk-map",
        preferCanvas=True,
        attributionControl=bool(tile_url),
        **view,
        children=[
            *basemap(roads, tile_url, tile_attribution),
            dl.GeoJSON(data=beats, style=js("beatStyle"), interactive=False),
            # Its own pane above the roads and below beats, incidents and units.
            dl.Pane(name="coverage", style={"zIndex": 300}),
            dl.LayersControl(
                [
                    dl.Overlay(
                        dl.GeoJSON(
                            id=ids.DESK_COVERAGE,
                            data=empty,
                            style=js("coverageStyle"),
                            interactive=False,
                            pane="coverage",
                        ),
                        name="Road covered by available vehicles",
                        checked=True,
                    )
                ],
                position="topright",
            ),
            dl.GeoJSON(
                id=ids.DESK_UNITS,
                data=empty,
                pointToLayer=js("unitMarker"),
                onEachFeature=js("unitTooltip"),
            ),
            dl.GeoJSON(id=ids.DESK_INCIDENTS, data=empty, pointToLayer=js("incidentMarker")),
        ],
    )


def desk(
    *,
    user: str,
    role: str,
    types: list[dict[str, Any]],
    roads: dict[str, Any],
    beats: dict[str, Any],
    bounds: tuple[float, float, float, float] | None,
    tile_url: str | None,
    tile_attribution: str,
    refresh_ms: int,
    unit_options: list[dict[str, str]],
) -> html.Div:
    return html.Div(
        className="desk",
        children=[
            page_header("desk", user, role),
            html.Div(
                className="desk-body",
                children=[
                    html.Div(
                        className="desk-left",
                        children=[
                            new_incident_form(types),
                            html.Div(
                                className="panel",
                                children=[html.H3("Incident queue"), html.Div(id=ids.DESK_QUEUE)],
                            ),
                        ],
                    ),
                    html.Div(
                        className="desk-center",
                        children=[
                            desk_map(roads, beats, bounds, tile_url, tile_attribution),
                            html.Div(
                                className="panel",
                                children=[
                                    html.H3("Units"),
                                    unit_filters(),
                                    html.Div(id=ids.DESK_UNIT_LIST),
                                ],
                            ),
                        ],
                    ),
                    html.Div(
                        className="desk-right",
                        children=[
                            html.Div(id=ids.DESK_MESSAGE, className="desk-message"),
                            html.Div(id=ids.DESK_DETAILS, className="panel"),
                            html.Div(
                                className="panel",
                                children=[
                                    html.H3("Who gets there first"),
                                    html.Div(id=ids.DESK_SUGGESTIONS),
                                    html.Div(
                                        className="row",
                                        children=[
                                            dcc.Dropdown(
                                                id=ids.DESK_OVERRIDE_UNIT,
                                                options=unit_options,
                                                placeholder="any unit (override)",
                                            ),
                                            html.Button("Send", id=ids.DESK_OVERRIDE),
                                        ],
                                    ),
                                ],
                            ),
                            html.Div(
                                className="panel",
                                children=[html.H3("Orders"), html.Div(id=ids.DESK_ORDERS)],
                            ),
                            html.Div(
                                className="panel",
                                children=[html.H3("Cameras"), html.Div(id=ids.DESK_CAMERAS)],
                            ),
                            html.Button("Close incident", id=ids.DESK_CLOSE, className="danger"),
                        ],
                    ),
                ],
            ),
            dcc.Store(id=ids.DESK_SELECTED),
            dcc.Store(id=ids.DESK_SHOWN),
            dcc.Interval(id=ids.DESK_TICK, interval=refresh_ms),
        ],
    )


def suggestions_table(
    rows: list[dict[str, Any]],
    shortfall: str | None,
    excluded: list[dict[str, Any]],
    coverage_note: str | None = None,
) -> html.Div:
    """Suggested units, best first. ``coverage_pct``/``coverage_drop_pct`` in
    a row (see ``views.with_coverage``) fill "Coverage if sent"."""
    cover_head = html.Th(
        "Coverage if sent",
        title="Share of the road network the other available vehicles still "
        "reach within the target time if this unit goes",
    )
    head = html.Tr(
        [html.Th(h) for h in ("", "Unit", "ETA", "Road", "Line", "Fix")]
        + [cover_head, html.Th("Why")]
    )
    body = [
        html.Tr(
            [
                html.Td(
                    html.Button(
                        "Dispatch",
                        id={"type": ids.DISPATCH_BUTTON, "unit": r["unit_id"]},
                        className="primary small",
                    )
                ),
                html.Td(r["call_sign"]),
                html.Td(f"{r['eta_s'] / 60:.1f} min"),
                html.Td(f"{r['road_distance_m']:.0f} m"),
                html.Td(f"{r['straight_distance_m']:.0f} m"),
                html.Td(f"{r['fix_age_s']:.0f} s"),
                _coverage_cell(r),
                html.Td("; ".join(r["reasons"])),
            ]
        )
        for r in rows
    ]
    stale = [e["call_sign"] for e in excluded if e["reason"] == "stale_fix"]
    notes = [html.P(shortfall, className="shortfall")] if shortfall else []
    if stale:
        notes.append(html.P("Stale fix, not suggested: " + ", ".join(stale), className="stale"))
    if coverage_note:
        notes.append(html.P(coverage_note, className="coverage-note"))
    return html.Div([html.Table([head, *body], className="suggestions"), *notes])


def _coverage_cell(row: dict[str, Any]) -> html.Td:
    """ "92 % (−6 %)": what stays covered if the unit goes, and the drop; a
    drop of 5 points or more is marked."""
    if row.get("coverage_pct") is None:
        return html.Td("–")
    drop = int(row.get("coverage_drop_pct") or 0)
    change = f"−{drop} %" if drop else "±0"
    return html.Td(
        f"{row['coverage_pct']} % ({change})",
        className="coverage-cost" if drop >= 5 else "coverage",
    )


def details(row: dict[str, Any], local_time: str) -> list[Any]:
    return [
        html.H3(f"#{row['id']} {row['type']} · P{row['priority']} · {row['status']}"),
        html.P(
            f"created {local_time} by {row['created_by']} ({row['source']}); "
            f"beat {row['beat'] or '-'}"
        ),
        html.P(row["notes"] or "", className="notes"),
    ]


def orders_list(rows: list[dict[str, Any]]) -> html.Ul:
    return html.Ul(
        [
            html.Li(
                f"{r['call_sign']}: {r['state']}"
                + ("" if r["published_at"] else " (not yet sent to terminal)"),
                className=f"order order-{r['state']}",
            )
            for r in rows
        ]
    )


def cameras_list(rows: list[dict[str, Any]]) -> html.Ul:
    return html.Ul(
        [
            html.Li(
                [
                    html.A(r["name"], href=r["stream_url"], target="_blank"),
                    f" · {r['distance_m']:.0f} m" + (" · sees the incident" if r["covers"] else ""),
                ],
                className="covers" if r["covers"] else "",
            )
            for r in rows
        ]
    )
