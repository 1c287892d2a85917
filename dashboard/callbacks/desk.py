"""Desk callbacks. Each reads its inputs, checks the user's right on the
server (:func:`dashboard.auth.require`), calls one function of geo, and
returns a view."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime
from typing import Any

import psycopg
from dash import ALL, ClientsideFunction, Dash, Input, Output, State, ctx, html, no_update

from dashboard import auth, checks, ids, views
from dashboard.callbacks import desk_dispatch, live
from dashboard.deps import Deps
from dashboard.i18n import message, t
from dashboard.layout import desk as layout
from geo import queries
from geo.cameras import rank_for
from geo.coverage import Coverage, CoverageCache, coverage, coverage_units
from geo.dispatch import Suggestions
from geo.intake import IntakeError, parse_incident
from store import incidents as incident_store
from store import orders as order_store
from usecases import incidents as inc
from usecases import shown_sets

CAMERA_SEARCH_M = 400.0
# Units move, but searching the city on every tick of every desk is waste.
COVERAGE_MAX_AGE_S = 5.0
STATUSES = frozenset(layout.UNIT_STATUSES)


def page(deps: Deps) -> html.Div:
    user = auth.current_user(deps.pool)
    with deps.pool.connection() as conn:
        types = incident_store.incident_type_list(conn)
        units = queries.unit_positions(conn, datetime.now(UTC))
        roads, beats = queries.roads_geojson(conn), queries.beats_geojson(conn)
        bounds = queries.city_extent(conn)
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
        lang=deps.dash.language,
    )


def register(app: Dash, deps: Deps) -> None:
    errors = [Output(layout.field_error_id(f), "children") for f in layout.NEW_FIELDS]
    lang = deps.dash.language
    live.register(app, ids.DESK_UNITS, ids.DESK_UNITS_DELTA, ids.DESK_UNITS_VERSION)

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
        _n: int | None,
        search: str | None,
        kind: str | None,
        status: str | None,
        version: Any,
        list_key: str | None,
        queue_key: str | None,
    ) -> tuple[Any, ...]:
        auth.require(deps.pool, "view_desk", "view_desk")
        search = checks.text(search, "unit search")
        kind = None if kind is None else checks.one_of(kind, "unit kind", layout.UNIT_KINDS)
        status = None if status is None else checks.one_of(status, "unit status", STATUSES)
        list_key, queue_key = (
            None if k is None else checks.text(k, "drawn key", 40) for k in (list_key, queue_key)
        )
        now = datetime.now(UTC)
        with deps.read() as conn:
            open_rows = incident_store.open_incidents(conn, now)
            delta = live.units_update(conn, deps, version, now)
            units = queries.unit_positions(conn, now)
        stale_s, offline_s = deps.presence.stale_s, deps.presence.offline_s
        rows = views.unit_rows(units, stale_s, offline_s)
        queue = views.queue_rows(open_rows)
        return (
            *_drawn_once(
                [{**r, "waiting": ""} for r in queue],
                queue_key,
                lambda: layout.queue_table(queue, lang),
            ),
            {str(r["id"]): r["waiting"] for r in queue},
            views.incidents_geojson(open_rows),
            delta,
            *_unit_list(views.filter_units(rows, search, kind, status), list_key, lang),
        )

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
    def create(_n: int, kind: str, priority: str, lat: str, lon: str, notes: str) -> tuple:
        user = auth.require(deps.pool, "create_incident", "create_incident")
        now = datetime.now(UTC)
        form = {"type": kind, "priority": priority, "lat": lat, "lon": lon, "notes": notes}
        with deps.pool.connection() as conn:
            types = {t: p for t, (p, _) in incident_store.incident_types(conn).items()}
            try:
                new = parse_incident(form, types, now)
            except IntakeError as exc:
                shown = [
                    message(exc.message, lang) if f == exc.field else "" for f in layout.NEW_FIELDS
                ]
                return (*shown, t("Incident not created: see the marked field.", lang), no_update)
            incident_id = inc.create_incident(conn, new, f"desk:{user.name}", "desk", now)
        blank = [""] * len(layout.NEW_FIELDS)
        return (*blank, t("Incident #{id} created.", lang, id=incident_id), incident_id)

    @app.callback(
        Output(ids.DESK_SELECTED, "data"),
        Input({"type": ids.QUEUE_ROW, "incident": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def select(clicks: list[int | None]) -> Any:
        if not any(clicks) or not isinstance(ctx.triggered_id, dict):
            return no_update
        return checks.integer(ctx.triggered_id.get("incident"), "incident", 1)

    coverage_cache = CoverageCache(COVERAGE_MAX_AGE_S)

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
        incident_id: int | None,
        _n: int | None,
        before: dict[str, Any] | None,
        drawn: dict[str, Any] | None,
    ) -> tuple[Any, ...]:
        user = auth.require(deps.pool, "view_desk", "view_desk")
        cover = coverage_cache.get(lambda: _coverage(deps))
        layer = _coverage_layer(cover, drawn)
        if incident_id is None:
            return (
                html.P(t("Select an incident in the queue.", lang)),
                None,
                None,
                None,
                None,
                None,
                *layer,
            )
        now = datetime.now(UTC)
        router = deps.router()
        viewer = desk_dispatch.viewer_of(user)
        with deps.pool.connection() as conn:
            rules = inc.rules_for(conn, deps.dispatch.max_fix_age_s)
            try:
                row, shown = inc.suggestions_for(conn, router, _id(incident_id), rules, now)
            except LookupError:
                gone = html.P(t("No incident #{id}.", lang, id=str(incident_id)[:20]))
                return (gone, None, None, None, None, None, *layer)
            orders = order_store.incident_orders(conn, row["id"])
            cams = rank_for(
                queries.cameras_near(conn, row["lon"], row["lat"], CAMERA_SEARCH_M),
                row["lon"],
                row["lat"],
            )[:6]
            call_signs = {u.id: u.call_sign for u in order_store.unit_snapshots(conn)}
            ranked = views.with_coverage([dataclasses.asdict(s) for s in shown.ranked], cover)
            excluded = [
                {
                    "unit_id": e.unit_id,
                    "reason": str(e.reason),
                    "call_sign": call_signs.get(e.unit_id, e.unit_id),
                }
                for e in shown.excluded
            ]
            key = views.suggestions_key(row["id"], ranked, shown.shortfall, excluded, orders)
            key += views.coverage_key(ranked) + f"v{row['version']}"
            store, redraw = _shown_store(conn, deps, before, key, (row, shown, ranked), viewer, now)
        rows_key = views.suggestions_layout_key(row["id"], ranked, shown.shortfall, excluded)
        if store is not None:
            store = {**store, "rows": rows_key}
        if not redraw:
            return (*(no_update,) * 4, store or no_update, no_update, *layer)
        # Rows drawn again only when they change (a unit in or out, the order,
        # the reasons): while a redraw is on its way the browser holds back a
        # click on a Dispatch button and then reads the new buttons' clicks,
        # none, so the click was lost. Figures that move as units drive are
        # set in place from DESK_CELLS.
        same_rows = before is not None and before.get("rows") == rows_key
        note = views.coverage_note(cover)
        return (
            layout.details(row, views.clock_text(row["created_at"], deps.tz), lang),
            no_update
            if same_rows
            else layout.suggestions_table(ranked, shown.shortfall, excluded, note, lang),
            layout.orders_list(orders, lang),
            layout.cameras_list(cams, lang),
            store,
            {**layout.suggestion_figures(ranked), "note|cover": note or ""},
            *layer,
        )

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
        Input(ids.DESK_CLOSE, "n_clicks"),
        State(ids.DESK_SELECTED, "data"),
        prevent_initial_call=True,
    )
    def close(_n: int, incident_id: int | None) -> str:
        user = auth.require(deps.pool, "close_incident", "close_incident")
        if incident_id is None:
            return t("Select an incident first.", lang)
        with deps.pool.connection() as conn:
            try:
                found = incident_store.incident(conn, _id(incident_id))
            except LookupError:
                found = None
            if found is None:
                return t("No incident #{id}.", lang, id=str(incident_id)[:20])
            done = inc.close_incident(conn, found["id"], f"desk:{user.name}", datetime.now(UTC))
        return (
            t("Incident #{id} closed.", lang, id=incident_id)
            if done
            else t("It was closed already.", lang)
        )


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


def _unit_list(rows: list[dict[str, Any]], drawn: str | None, lang: str) -> tuple[Any, Any]:
    """(table, key) for the unit list (see :func:`_drawn_once`)."""
    return _drawn_once(rows, drawn, lambda: layout.unit_table(rows, lang))


def _drawn_once(rows: list[dict[str, Any]], drawn: str | None, draw: Any) -> tuple[Any, Any]:
    """(``draw()``, key of ``rows``), or nothing when the browser already shows
    these rows: redrawing a table every tick replaced its buttons under the
    pointer, and a click between press and release was lost."""
    key = hashlib.sha1(repr(rows).encode(), usedforsecurity=False).hexdigest()
    if key == drawn:
        return no_update, no_update
    return draw(), key


def _coverage(deps: Deps) -> Coverage:
    """Road covered now within the target by available, fresh, driving units."""
    now = datetime.now(UTC)
    with deps.pool.connection() as conn:
        units = order_store.unit_snapshots(conn)
    unit_ids, lons, lats = coverage_units(units, now, deps.dispatch.max_fix_age_s)
    return coverage(deps.router(), unit_ids, lons, lats, deps.dispatch.coverage_target_s)


def _coverage_layer(cover: Coverage, drawn: dict[str, Any] | None) -> tuple[Any, Any]:
    """(data, hideout) for the coverage layer; nothing is sent when the
    browser already draws this coverage (its key rides in ``hideout``)."""
    key = views.coverage_layer_key(cover)
    if drawn and drawn.get("key") == key:
        return no_update, no_update
    return views.coverage_geojson(cover), {"key": key}


def _id(value: Any) -> int:
    """An incident id from the browser; a non-integer is no incident (LookupError)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        raise LookupError(f"no incident {value!r}")
    return value


def _shown_store(
    conn: psycopg.Connection,
    deps: Deps,
    before: dict[str, Any] | None,
    key: str,
    found: tuple[dict[str, Any], Suggestions, list[dict[str, Any]]],
    viewer: shown_sets.Viewer,
    now: datetime,
) -> tuple[dict[str, Any] | None, bool]:
    """(the desk's store, whether to redraw): the set id the page holds. While
    the page shows the same list (same ``key``) of a set still usable, nothing
    is written; at half its age limit the set is renewed (the same list, still
    on screen) so a dispatch from it is not refused as too old. Otherwise the
    suggestions just computed are stored as a new set and drawn."""
    row, shown, ranked = found
    max_age_s = deps.dispatch.shown_max_age_s
    old = before.get("set_id") if before and before.get("key") == key else None
    held = shown_sets.shown_set(conn, old) if type(old) is int else None
    version = row["version"]
    if (
        held
        and held.incident_id == row["id"]
        and shown_sets.usable(held, viewer, version, now, max_age_s)
    ):
        if held.age_s(now) <= max_age_s / 2:
            return None, False
        return {"set_id": shown_sets.renew_shown(conn, held.id, now), "key": key}, False
    set_id = shown_sets.record_shown(conn, row, shown, viewer, now, ranked)
    return {"set_id": set_id, "key": key}, True
