"""The desk's incident panel: what :func:`usecases.desk.incident_view` shows
for the selected incident, the set it is stored as, and what is sent to the
browser (rows drawn again only when they change)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg
from dash import html, no_update

from dashboard import views
from dashboard.callbacks import desk_dispatch
from dashboard.deps import Deps
from dashboard.i18n import t
from dashboard.layout import desk_incident as layout
from geo.access import User
from geo.coverage import Coverage, CoverageCache
from usecases import desk, shown_sets
from usecases import incidents as inc

# Units move, but searching the city on every tick of every desk is waste.
COVERAGE_MAX_AGE_S = 5.0
PANEL_OUTPUTS = 6  # details, suggestions, orders, cameras, shown store, figures


def coverage_cache() -> CoverageCache:
    """The desk's coverage, computed at most every ``COVERAGE_MAX_AGE_S``."""
    return CoverageCache(COVERAGE_MAX_AGE_S)


def panel(
    deps: Deps,
    user: User,
    incident_id: Any,
    before: dict[str, Any] | None,
    drawn: dict[str, Any] | None,
    cache: CoverageCache,
) -> tuple[Any, ...]:
    """The panel's outputs (details, suggestions, orders, cameras, the
    page's store, the figures set in place) and the coverage layer's (data,
    hideout), for ``incident_id`` as the browser sent it."""
    lang = deps.dash.language
    cover = cache.get(lambda: _coverage(deps))
    layer = _coverage_layer(cover, drawn)
    if incident_id is None:
        return (html.P(t("Select an incident in the queue.", lang)), *_blank(), *layer)
    now = datetime.now(UTC)
    with deps.pool.connection() as conn:
        rules = inc.rules_for(conn, deps.dispatch.max_fix_age_s)
        try:
            view = desk.incident_view(
                conn, deps.router(), incident_id_of(incident_id), rules, cover, now
            )
        except LookupError:
            gone = html.P(t("No incident #{id}.", lang, id=str(incident_id)[:20]))
            return (gone, *_blank(), *layer)
        viewer = desk_dispatch.viewer_of(user)
        key = _view_key(view)
        store, redraw = _shown_store(conn, deps, before, key, view, viewer, now)
    return (*_drawn(deps, view, before, store, redraw, cover), *layer)


def _blank() -> tuple[None, ...]:
    return (None,) * (PANEL_OUTPUTS - 1)


def _view_key(view: desk.IncidentView) -> str:
    """What the panel shows, coarsely: the same key, nothing worth redrawing."""
    row = view.incident
    shortfall = view.suggestions.shortfall
    key = views.suggestions_key(row["id"], view.ranked, shortfall, view.excluded, view.orders)
    return key + views.coverage_key(view.ranked) + f"v{row['version']}"


def _drawn(
    deps: Deps,
    view: desk.IncidentView,
    before: dict[str, Any] | None,
    store: dict[str, Any] | None,
    redraw: bool,
    cover: Coverage,
) -> tuple[Any, ...]:
    """The panel's outputs for ``view``. Rows are drawn again only when they
    change (a unit in or out, the order, the reasons): while a redraw is on
    its way the browser holds back a click on a Dispatch button and then
    reads the new buttons' clicks, none, so the click was lost. Figures that
    move as units drive are set in place from DESK_CELLS."""
    lang, row, shortfall = deps.dash.language, view.incident, view.suggestions.shortfall
    rows_key = views.suggestions_layout_key(row["id"], view.ranked, shortfall, view.excluded)
    if store is not None:
        store = {**store, "rows": rows_key}
    if not redraw:
        return (*(no_update,) * 4, store or no_update, no_update)
    same_rows = before is not None and before.get("rows") == rows_key
    note = views.coverage_note(cover)
    table = layout.suggestions_table(view.ranked, shortfall, view.excluded, note, lang)
    return (
        layout.details(row, views.clock_text(row["created_at"], deps.tz), lang),
        no_update if same_rows else table,
        layout.orders_list(view.orders, lang),
        layout.cameras_list(view.cameras, lang),
        store,
        {**layout.suggestion_figures(view.ranked), "note|cover": note or ""},
    )


def _coverage(deps: Deps) -> Coverage:
    """Road covered now within the target by available, fresh, driving units."""
    settings = deps.dispatch
    with deps.pool.connection() as conn:
        return desk.current_coverage(
            conn,
            deps.router(),
            datetime.now(UTC),
            settings.max_fix_age_s,
            settings.coverage_target_s,
        )


def _coverage_layer(cover: Coverage, drawn: dict[str, Any] | None) -> tuple[Any, Any]:
    """(data, hideout) for the coverage layer; nothing is sent when the
    browser already draws this coverage (its key rides in ``hideout``)."""
    key = views.coverage_layer_key(cover)
    if drawn and drawn.get("key") == key:
        return no_update, no_update
    return views.coverage_geojson(cover), {"key": key}


def incident_id_of(value: Any) -> int:
    """An incident id from the browser; a non-integer is no incident (LookupError)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        raise LookupError(f"no incident {value!r}")
    return value


def _shown_store(
    conn: psycopg.Connection,
    deps: Deps,
    before: dict[str, Any] | None,
    key: str,
    view: desk.IncidentView,
    viewer: shown_sets.Viewer,
    now: datetime,
) -> tuple[dict[str, Any] | None, bool]:
    """(the desk's store, whether to redraw): the set id the page holds. While
    the page shows the same list (same ``key``) of a set still usable, nothing
    is written; at half its age limit the set is renewed (the same list, still
    on screen) so a dispatch from it is not refused as too old. Otherwise the
    view is stored as a new set (:func:`usecases.desk.record_view`) and drawn."""
    row = view.incident
    max_age_s = deps.dispatch.shown_max_age_s
    old = before.get("set_id") if before and before.get("key") == key else None
    held = shown_sets.shown_set(conn, old) if type(old) is int else None
    if (
        held
        and held.incident_id == row["id"]
        and shown_sets.usable(held, viewer, row["version"], now, max_age_s)
    ):
        if held.age_s(now) <= max_age_s / 2:
            return None, False
        return {"set_id": shown_sets.renew_shown(conn, held.id, now), "key": key}, False
    return {"set_id": desk.record_view(conn, view, viewer, now), "key": key}, True
