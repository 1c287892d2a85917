"""The shift commander's desk: incident queue, new incident, map, the
selected incident's suggestions and orders, cameras, and the unit list."""

from __future__ import annotations

from typing import Any

import dash_leaflet as dl
from dash import dcc, html

from dashboard import ids
from dashboard.i18n import t
from dashboard.layout import desk_alarms, desk_edit, desk_units
from dashboard.layout.fields import labelled_field, status_text
from dashboard.layout.live import units_layer, units_stores
from dashboard.layout.video import escape_layer, video_panel
from dashboard.layout.wall import basemap, centred_view, js, untied_overlay

NEW_FIELDS = ("type", "priority", "lat", "lon", "notes")


def field_error_id(name: str) -> str:
    return f"new-{name}-error"


def _field(label: str, control: Any, name: str) -> html.Div:
    return labelled_field(label, control, field_error_id(name))


def page_header(title: str, user: str, role: str, lang: str = "en") -> html.Div:
    """The signed-in pages' header: page name, who is signed in, sign-out."""
    return html.Div(
        className="desk-header",
        children=[
            html.Div(f"dispatchmap · {t(title, lang)}", className="desk-title"),
            html.Div(f"{user} ({t(role, lang)})", className="desk-user"),
            html.Form(
                html.Button(t("Sign out", lang), type="submit"), method="post", action="/logout"
            ),
        ],
    )


def _type_label(row: dict[str, Any], lang: str) -> str:
    return str(row["name_zh"]) if lang == "zh" else f"{row['name_en']} · {row['name_zh']}"


def new_incident_form(types: list[dict[str, Any]], lang: str = "en") -> html.Div:
    options = [{"label": _type_label(row, lang), "value": row["id"]} for row in types]
    return html.Div(
        className="panel new-incident",
        children=[
            html.H3(t("New incident (接警): click the map for the place", lang)),
            _field(
                t("Type", lang),
                dcc.Dropdown(id=ids.NEW_TYPE, options=options, clearable=False),
                "type",
            ),
            _field(
                t("Priority", lang),
                dcc.Dropdown(
                    id=ids.NEW_PRIORITY,
                    options=[{"label": t("type default", lang), "value": ""}]
                    + [{"label": f"P{p}", "value": str(p)} for p in range(1, 5)],
                    value="",
                ),
                "priority",
            ),
            html.Div(
                className="row",
                children=[
                    _field(t("Latitude", lang), dcc.Input(id=ids.NEW_LAT, type="text"), "lat"),
                    _field(t("Longitude", lang), dcc.Input(id=ids.NEW_LON, type="text"), "lon"),
                ],
            ),
            _field(t("Notes", lang), dcc.Textarea(id=ids.NEW_NOTES, rows=2), "notes"),
            html.Button(t("Create incident", lang), id=ids.NEW_CREATE, className="primary"),
        ],
    )


def _units_sent(text: str, lang: str) -> str:
    """The queue's "C-01:sent, C-02:enroute" with each order state translated."""
    if lang == "en" or not text:
        return text
    pairs = (item.rpartition(":") for item in text.split(", "))
    return ", ".join(
        f"{unit}:{status_text(state, lang)}" if unit else state for unit, _, state in pairs
    )


def queue_table(rows: list[dict[str, Any]], lang: str = "en") -> html.Table:
    """The queue, most urgent first; a click on a row selects the incident.
    An unassigned P1 is marked so it catches the eye."""
    head = html.Tr([html.Th(t(h, lang)) for h in ("P", "#", "Type", "Status", "Waiting", "Units")])
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
                html.Td((lang == "zh" and r.get("type_zh")) or r["type_label"]),
                html.Td(status_text(r["status"], lang)),
                # Its text is set by the browser from the tick's waiting times,
                # so the rows are drawn again only when something else changes.
                html.Td(html.Span(r["waiting"], id={"type": ids.QUEUE_WAIT, "incident": r["id"]})),
                html.Td(_units_sent(r["units"], lang)),
            ],
        )
        for r in rows
    ]
    return html.Table([head, *body], className="queue")


UNIT_KINDS = ("car", "motorbike", "foot")
UNIT_STATUSES = (
    "available",
    "dispatched",
    "acknowledged",
    "enroute",
    "onscene",
    "busy",
    "out_of_service",
    "off_duty",
)


def unit_filters(lang: str = "en") -> html.Div:
    return html.Div(
        className="row",
        children=[
            dcc.Input(
                id=ids.UNIT_SEARCH, placeholder=t("call sign, talkgroup…", lang), type="text"
            ),
            dcc.Dropdown(
                id=ids.UNIT_KIND,
                options=[{"label": t(k, lang), "value": k} for k in UNIT_KINDS],
                placeholder=t("kind", lang),
            ),
            dcc.Dropdown(
                id=ids.UNIT_STATUS,
                placeholder=t("status", lang),
                options=[{"label": status_text(s, lang), "value": s} for s in UNIT_STATUSES],
            ),
        ],
    )


def unit_option_label(unit: dict[str, Any], lang: str = "en") -> str:
    """A unit in the override list: "C-01 (car, available)"."""
    return f"{unit['call_sign']} ({t(unit['kind'], lang)}, {status_text(unit['status'], lang)})"


# A list longer than this is cut, with a line saying so: thousands of rows
# are slow to draw and no one reads them; the search and filters narrow it.
MAX_LISTED_UNITS = 200


def unit_status_text(row: dict[str, Any], lang: str = "en") -> str:
    """A unit's status, what for (when a person said) and since when."""
    since = t("since {time}", lang, time=row["since"]) if row.get("since") else ""
    parts = (status_text(row["status"], lang), row.get("reason") or "", since)
    return " · ".join(p for p in parts if p)


def unit_table(rows: list[dict[str, Any]], lang: str = "en") -> html.Table:
    """Roster units (the first ``MAX_LISTED_UNITS``); a click on a call sign
    centres the map on the unit."""
    head = html.Tr(
        [
            html.Th(t(h, lang))
            for h in ("Unit", "Kind", "Status", "Beat", "Presence", "Talkgroup", "Phone")
        ]
    )
    body = [
        html.Tr(
            [
                html.Td(
                    html.Button(
                        r["call_sign"], id={"type": ids.UNIT_ROW, "unit": r["id"]}, className="link"
                    )
                ),
                html.Td(t(r["kind"], lang)),
                html.Td(unit_status_text(r, lang)),
                html.Td(r["beat"]),
                html.Td(status_text(r["presence"], lang), className=f"presence-{r['presence']}"),
                html.Td(r["talkgroup"]),
                html.Td(r["phone"]),
            ]
        )
        for r in rows[:MAX_LISTED_UNITS]
    ]
    if len(rows) > MAX_LISTED_UNITS:
        note = t(
            "Showing {shown} of {total} units: search or filter to narrow the list",
            lang,
            shown=MAX_LISTED_UNITS,
            total=len(rows),
        )
        body.append(html.Tr(html.Td(note, colSpan=7, className="units-cut")))
    return html.Table([head, *body], className="units")


def desk_map(
    roads: dict[str, Any],
    beats: dict[str, Any],
    bounds: tuple[float, float, float, float] | None,
    tile_url: str | None,
    tile_attribution: str,
    lang: str = "en",
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
                    ),
                    untied_overlay(ids.DESK_UNTIED, lang),
                ],
                position="topright",
            ),
            units_layer(ids.DESK_UNITS),
            dl.GeoJSON(id=ids.DESK_INCIDENTS, data=empty, pointToLayer=js("incidentMarker")),
            escape_layer(),
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
    dispositions: list[dict[str, Any]],
    lang: str = "en",
) -> html.Div:
    return html.Div(
        className="desk",
        children=[
            page_header("desk", user, role, lang),
            html.Div(
                className="desk-body",
                children=[
                    html.Div(
                        className="desk-left",
                        children=[
                            desk_alarms.panel(lang),
                            desk_units.status_form(unit_options, lang),
                            new_incident_form(types, lang),
                            html.Div(
                                className="panel",
                                children=[
                                    html.H3(t("Incident queue", lang)),
                                    html.Div(id=ids.DESK_QUEUE),
                                ],
                            ),
                        ],
                    ),
                    html.Div(
                        className="desk-center",
                        children=[
                            desk_map(roads, beats, bounds, tile_url, tile_attribution, lang),
                            html.Div(id=ids.DESK_UNTIED_MORE, className="untied-more"),
                            html.Div(
                                className="panel",
                                children=[
                                    html.H3(t("Units", lang)),
                                    unit_filters(lang),
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
                            desk_edit.edit_form(types, lang),
                            html.Div(
                                className="panel",
                                children=[
                                    html.H3(t("Who gets there first", lang)),
                                    html.Div(id=ids.DESK_SUGGESTIONS),
                                    html.Div(
                                        className="row",
                                        children=[
                                            dcc.Dropdown(
                                                id=ids.DESK_OVERRIDE_UNIT,
                                                options=unit_options,
                                                placeholder=t("any unit (override)", lang),
                                            ),
                                            html.Button(t("Send", lang), id=ids.DESK_OVERRIDE),
                                        ],
                                    ),
                                ],
                            ),
                            html.Div(
                                className="panel",
                                children=[
                                    html.H3(t("Orders", lang)),
                                    html.Div(id=ids.DESK_ORDERS),
                                ],
                            ),
                            html.Div(
                                className="panel",
                                children=[
                                    html.H3(t("Cameras", lang)),
                                    html.Div(id=ids.DESK_CAMERAS),
                                ],
                            ),
                            video_panel(lang),
                            closing_form(dispositions, lang),
                        ],
                    ),
                ],
            ),
            dcc.Store(id=ids.DESK_SELECTED),
            dcc.Store(id=ids.DESK_SHOWN),
            *units_stores(ids.DESK_UNITS_DELTA, ids.DESK_UNITS_VERSION),
            dcc.Store(id=ids.DESK_UNIT_LIST_KEY),  # what the unit list shows
            dcc.Store(id=ids.DESK_QUEUE_KEY),
            dcc.Store(id=ids.DESK_CELLS),
            dcc.Store(id=ids.DESK_QUEUE_WAITING),
            dcc.Store(id=ids.DESK_UNTIED_KEY),  # what the untied-devices layer shows
            dcc.Interval(id=ids.DESK_TICK, interval=refresh_ms),
        ],
    )


def closing_form(dispositions: list[dict[str, Any]], lang: str = "en") -> html.Div:
    """How the selected incident ended (反馈): a disposition from the
    station's list and the result in words, then the close button."""
    options = [
        {"label": d["name_zh"] if lang == "zh" else d["name_en"], "value": d["id"]}
        for d in dispositions
    ]
    return html.Div(
        className="panel",
        children=[
            html.H3(t("Close incident", lang)),
            labelled_field(
                t("Disposition", lang),
                dcc.Dropdown(id=ids.DESK_DISPOSITION, options=options),
                ids.DESK_DISPOSITION_ERROR,
            ),
            labelled_field(
                t("Result", lang),
                dcc.Textarea(id=ids.DESK_RESULT, maxLength=2000),
                ids.DESK_RESULT_ERROR,
            ),
            html.Button(t("Close incident", lang), id=ids.DESK_CLOSE, className="danger"),
        ],
    )
