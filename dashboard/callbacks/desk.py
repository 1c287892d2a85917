"""Desk callbacks. Each reads its inputs, checks the user's right on the
server (:func:`dashboard.auth.require`), calls one function of geo, and
returns a view."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dash import ALL, ClientsideFunction, Dash, Input, Output, State, ctx, html, no_update

from dashboard import auth, checks, ids
from dashboard.callbacks import (
    desk_actions,
    desk_alarms,
    desk_dispatch,
    desk_incident,
    desk_units,
    live,
)
from dashboard.deps import Deps
from dashboard.layout import desk as layout
from geo import queries
from store import city as city_store
from store import incidents as incident_store


def page(deps: Deps) -> html.Div:
    user = auth.current_user(deps.pool)
    with deps.pool.connection() as conn:
        types = incident_store.incident_type_list(conn)
        units = queries.unit_positions(conn, datetime.now(UTC))
        roads, beats = city_store.roads_geojson(conn), city_store.beats_geojson(conn)
        bounds = city_store.city_extent(conn)
        dispositions = incident_store.dispositions(conn)
    return layout.desk(
        user=user.name if user else "?",
        role=user.role if user else "?",
        types=types,
        roads=roads,
        beats=beats,
        bounds=bounds,
        tile_url=deps.dash.tile_url,
        tile_attribution=deps.dash.tile_attribution,
        refresh_ms=deps.dash.refresh_ms,
        unit_options=[
            {"label": layout.unit_option_label(u, deps.dash.language), "value": u["id"]}
            for u in units
        ],
        dispositions=dispositions,
        lang=deps.dash.language,
    )


def register(app: Dash, deps: Deps) -> None:
    errors = [Output(layout.field_error_id(f), "children") for f in layout.NEW_FIELDS]
    live.register(app, ids.DESK_UNITS, ids.DESK_UNITS_DELTA, ids.DESK_UNITS_VERSION)
    desk_alarms.register(app, deps)
    desk_units.register(app, deps)
    _register_edit(app, deps)

    @app.callback(
        Output(ids.DESK_QUEUE, "children"),
        Output(ids.DESK_QUEUE_KEY, "data"),
        Output(ids.DESK_QUEUE_WAITING, "data"),
        Output(ids.DESK_INCIDENTS, "data"),
        Output(ids.DESK_UNITS_DELTA, "data"),
        Output(ids.DESK_UNIT_LIST, "children"),
        Output(ids.DESK_UNIT_LIST_KEY, "data"),
        Input(ids.DESK_TICK, "n_intervals"),
        Input(ids.UNIT_SEARCH, "value"),
        Input(ids.UNIT_KIND, "value"),
        Input(ids.UNIT_STATUS, "value"),
        State(ids.DESK_UNITS_VERSION, "data"),
        State(ids.DESK_UNIT_LIST_KEY, "data"),
        State(ids.DESK_QUEUE_KEY, "data"),
    )
    def refresh(
        _n: int | None, search: Any, kind: Any, status: Any, version: Any, *keys: Any
    ) -> tuple[Any, ...]:
        auth.require(deps.pool, "view_desk", "view_desk")
        return desk_actions.lists(deps, (search, kind, status), version, keys)

    # What moves every tick (the suggestions' figures, the queue's waiting
    # times) is set in place in the browser, so the rows and their buttons are
    # not replaced under the dispatcher's pointer.
    _set_in_place(app, "cells", {"type": ids.DESK_CELL, "cell": ALL}, ids.DESK_CELLS)
    _set_in_place(
        app, "queueWaiting", {"type": ids.QUEUE_WAIT, "incident": ALL}, ids.DESK_QUEUE_WAITING
    )

    @app.callback(
        Output(ids.DESK_MAP, "viewport"),
        Input({"type": ids.UNIT_ROW, "unit": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def centre(clicks: list[int | None]) -> Any:
        if not any(clicks) or not isinstance(ctx.triggered_id, dict):
            return no_update
        with deps.pool.connection() as conn:
            rows = queries.unit_positions(conn, datetime.now(UTC))
        wanted = checks.identifier(ctx.triggered_id.get("unit"), "unit", checks.MAX_TEXT_CHARS)
        unit = next((r for r in rows if r["id"] == wanted), None)
        if unit is None or unit["lat"] is None:
            return no_update
        return {"center": [unit["lat"], unit["lon"]], "zoom": 18, "transition": "flyTo"}

    @app.callback(
        Output(ids.NEW_LAT, "value"),
        Output(ids.NEW_LON, "value"),
        Input(ids.DESK_MAP, "clickData"),
        prevent_initial_call=True,
    )
    def place(click: dict[str, Any] | None) -> tuple[Any, Any]:
        if not click or "latlng" not in click:
            return no_update, no_update
        return f"{click['latlng']['lat']:.6f}", f"{click['latlng']['lng']:.6f}"

    @app.callback(
        *errors,
        Output(ids.DESK_MESSAGE, "children", allow_duplicate=True),
        Output(ids.DESK_SELECTED, "data", allow_duplicate=True),
        Input(ids.NEW_CREATE, "n_clicks"),
        *[State(f"new-{f}", "value") for f in layout.NEW_FIELDS],
        prevent_initial_call=True,
    )
    def create(_n: int, *values: Any) -> tuple:
        user = auth.require(deps.pool, "create_incident", "create_incident")
        return desk_actions.create(deps, user, dict(zip(layout.NEW_FIELDS, values, strict=True)))

    @app.callback(
        Output(ids.DESK_SELECTED, "data"),
        Input({"type": ids.QUEUE_ROW, "incident": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def select(clicks: list[int | None]) -> Any:
        if not any(clicks) or not isinstance(ctx.triggered_id, dict):
            return no_update
        return checks.integer(ctx.triggered_id.get("incident"), "incident", 1)

    coverage_cache = desk_incident.coverage_cache()

    @app.callback(
        Output(ids.DESK_DETAILS, "children"),
        Output(ids.DESK_SUGGESTIONS, "children"),
        Output(ids.DESK_ORDERS, "children"),
        Output(ids.DESK_CAMERAS, "children"),
        Output(ids.DESK_SHOWN, "data"),
        Output(ids.DESK_CELLS, "data"),
        Output(ids.DESK_COVERAGE, "data"),
        Output(ids.DESK_COVERAGE, "hideout"),
        Input(ids.DESK_SELECTED, "data"),
        Input(ids.DESK_TICK, "n_intervals"),
        State(ids.DESK_SHOWN, "data"),
        State(ids.DESK_COVERAGE, "hideout"),
    )
    def show(
        incident_id: Any, _n: int | None, before: Any, drawn: dict[str, Any] | None
    ) -> tuple[Any, ...]:
        user = auth.require(deps.pool, "view_desk", "view_desk")
        return desk_incident.panel(deps, user, incident_id, before, drawn, coverage_cache)

    @app.callback(
        Output(ids.DESK_MESSAGE, "children", allow_duplicate=True),
        Input({"type": ids.DISPATCH_BUTTON, "unit": ALL}, "n_clicks"),
        State(ids.DESK_SHOWN, "data"),
        prevent_initial_call=True,
    )
    def dispatch(clicks: list[int | None], shown: dict[str, Any] | None) -> Any:
        if not any(clicks) or not isinstance(ctx.triggered_id, dict):
            return no_update
        user = auth.require(deps.pool, "dispatch", "dispatch")
        return desk_dispatch.send(deps, user, shown, ctx.triggered_id.get("unit"), override=False)

    @app.callback(
        Output(ids.DESK_MESSAGE, "children", allow_duplicate=True),
        Input(ids.DESK_OVERRIDE, "n_clicks"),
        State(ids.DESK_OVERRIDE_UNIT, "value"),
        State(ids.DESK_SHOWN, "data"),
        prevent_initial_call=True,
    )
    def override(_n: int, unit_id: str | None, shown: dict[str, Any] | None) -> str:
        user = auth.require(deps.pool, "override", "override")
        return desk_dispatch.send(deps, user, shown, unit_id, override=True)

    @app.callback(
        Output(ids.DESK_MESSAGE, "children", allow_duplicate=True),
        Output(ids.DESK_DISPOSITION_ERROR, "children"),
        Output(ids.DESK_RESULT_ERROR, "children"),
        Input(ids.DESK_CLOSE, "n_clicks"),
        State(ids.DESK_SELECTED, "data"),
        State(ids.DESK_DISPOSITION, "value"),
        State(ids.DESK_RESULT, "value"),
        prevent_initial_call=True,
    )
    def close(_n: int, incident_id: Any, *closing: Any) -> tuple[str, str, str]:
        user = auth.require(deps.pool, "close_incident", "close_incident")
        return desk_actions.close(deps, user, incident_id, closing)


def _register_edit(app: Dash, deps: Deps) -> None:
    @app.callback(
        Output(ids.DESK_MESSAGE, "children", allow_duplicate=True),
        Input(ids.DESK_EDIT_SAVE, "n_clicks"),
        State(ids.DESK_SELECTED, "data"),
        *[State(i, "value") for i in ids.EDIT_FIELDS.values()],
        prevent_initial_call=True,
    )
    def edit(_n: int, incident_id: Any, *values: Any) -> str:
        user = auth.require(deps.pool, "create_incident", "edit_incident")
        form = dict(zip(ids.EDIT_FIELDS, values, strict=True))
        return desk_actions.edit(deps, user, incident_id, form)


def _set_in_place(app: Dash, function: str, texts: dict[str, Any], store: str) -> None:
    """The texts of the components matching ``texts`` (a pattern-matching id)
    from the map in ``store``, by ``assets/desk.js``'s ``function``."""
    app.clientside_callback(
        ClientsideFunction(namespace="desk", function_name=function),
        Output(texts, "children"),
        Input(store, "data"),
        State(texts, "id"),
        prevent_initial_call=True,
    )
