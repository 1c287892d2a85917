"""Replay callbacks: choose a window (and an area), play it, show the moment.

The window is loaded once (``usecases.replay.load_window``) and kept in this
process (``replay_store.WindowCache``, shared with the export route); every
slider move only interpolates the moment here (``geo.replay``). Only the
GeoJSON of one moment goes to the browser, never the tracks.
"""

from __future__ import annotations

from typing import Any

from dash import ALL, Dash, Input, Output, State, ctx, html, no_update

from dashboard import auth, checks, ids, replay_page
from dashboard import replay_store as store
from dashboard import replay_views as rviews
from dashboard.deps import Deps
from dashboard.layout import replay as layout
from dashboard.routes import replay as replay_routes
from geo.replay_window import MAX_WINDOW_S
from store import city as city_store
from store import replay as history

INCIDENT_CHOICES = 200
_STEPS = {
    ids.REPLAY_PLAYER: "tick",
    ids.REPLAY_PLAY: "play",
    ids.REPLAY_BACK: "back",
    ids.REPLAY_FORWARD: "forward",
}


def page(deps: Deps) -> html.Div:
    user = auth.current_user(deps.pool)
    with deps.read() as conn:
        incidents = history.recent_incidents(conn, INCIDENT_CHOICES)
        roads, beats = city_store.roads_geojson(conn), city_store.beats_geojson(conn)
        bounds = city_store.city_extent(conn)
    choices = [
        {
            "id": r["id"],
            "label": f"#{r['id']} {r['name_en']} · P{r['priority']} · "
            f"{rviews.local_text(r['created_at'], deps.tz, with_date=True)} · {r['status']}",
        }
        for r in incidents
    ]
    return layout.replay(
        user=user.name if user else "?",
        role=user.role if user else "?",
        incidents=choices,
        roads=roads,
        beats=beats,
        bounds=bounds,
        tile_url=deps.dash.tile_url,
        tile_attribution=deps.dash.tile_attribution,
    )


def register(app: Dash, deps: Deps) -> None:
    cache = store.WindowCache(deps)
    replay_routes.register(app, deps, cache)
    presence, tz = (deps.presence.stale_s, deps.presence.offline_s), deps.tz

    @app.callback(
        Output(ids.REPLAY_AREA, "data"),
        Output(ids.REPLAY_AREA_LAYER, "data"),
        Output(ids.REPLAY_AREA_TEXT, "children"),
        Output(ids.REPLAY_DRAW, "editToolbar"),
        Input(ids.REPLAY_DRAW, "geojson"),
        Input(ids.REPLAY_AREA_CLEAR, "n_clicks"),
        State(ids.REPLAY_DRAW, "editToolbar"),
        prevent_initial_call=True,
    )
    def area(drawn: dict[str, Any] | None, _n: Any, toolbar: dict[str, Any] | None) -> tuple:
        if ctx.triggered_id == ids.REPLAY_AREA_CLEAR:
            return replay_page.AREA_CLEARED
        checks.drawn_ring(drawn)
        clicks = checks.integer((toolbar or {}).get("n_clicks", 0), "editToolbar.n_clicks")
        return replay_page.area_drawn(rviews.drawn_area(drawn), clicks)

    @app.callback(
        Output(ids.REPLAY_WINDOW, "data"),
        Output(ids.REPLAY_START, "value"),
        Output(ids.REPLAY_END, "value"),
        *[Output(layout.error_id(f), "children") for f in ("incident", "start", "end")],
        Input(ids.REPLAY_INCIDENT, "value"),
        Input(ids.REPLAY_LOAD, "n_clicks"),
        Input(ids.REPLAY_AREA, "data"),
        State(ids.REPLAY_START, "value"),
        State(ids.REPLAY_END, "value"),
        State(ids.REPLAY_WINDOW, "data"),
        prevent_initial_call=True,
    )
    def choose(incident_id: int | None, _n: Any, area: list[float] | None, start: str, end: str,
               before: dict[str, Any] | None) -> tuple:  # fmt: skip
        auth.require(deps.pool, "view_replay", "view_replay")
        box, previous = checks.area(area), store.window(before)
        area = list(box) if box else None
        start, end = checks.text(start, "start"), checks.text(end, "end")
        if ctx.triggered_id == ids.REPLAY_AREA:
            return replay_page.area_changed(before, area)
        if ctx.triggered_id != ids.REPLAY_INCIDENT:
            return replay_page.times_typed(start, end, previous, area, tz)
        if incident_id is None:
            return (no_update,) * 6
        return replay_page.incident_chosen(
            incident_id, store.incident_log(deps, incident_id), area, tz
        )

    @app.callback(
        Output(ids.REPLAY_SLIDER, "max"),
        Output(ids.REPLAY_SLIDER, "value", allow_duplicate=True),
        Output(ids.REPLAY_SLIDER, "marks"),
        Output(ids.REPLAY_SLIDER, "disabled"),
        Output(ids.REPLAY_TIMELINE, "children"),
        Output(ids.REPLAY_EXPORT, "children"),
        Output(ids.REPLAY_MESSAGE, "children"),
        Input(ids.REPLAY_WINDOW, "data"),
        State(ids.REPLAY_SLIDER, "value"),
        prevent_initial_call=True,
    )
    def load(data: dict[str, Any] | None, offset_s: float | None) -> tuple:
        auth.require(deps.pool, "view_replay", "view_replay")
        window = store.window(data)
        if window is None or data is None:
            return (no_update,) * 7
        offset_s = checks.number(offset_s or 0.0, "slider.value", 0.0, MAX_WINDOW_S)
        incident_id = data["incident_id"]
        log = None if incident_id is None else store.incident_log(deps, incident_id)
        return replay_page.window_loaded(cache.get(*window), data, offset_s, log, tz)

    @app.callback(
        Output(ids.REPLAY_SLIDER, "value"),
        Output(ids.REPLAY_PLAYER, "disabled"),
        Output(ids.REPLAY_PLAY, "children"),
        Input(ids.REPLAY_PLAYER, "n_intervals"),
        Input(ids.REPLAY_PLAY, "n_clicks"),
        Input(ids.REPLAY_BACK, "n_clicks"),
        Input(ids.REPLAY_FORWARD, "n_clicks"),
        Input({"type": ids.REPLAY_EVENT, "event": ALL, "at": ALL}, "n_clicks"),
        State(ids.REPLAY_SLIDER, "value"),
        State(ids.REPLAY_SLIDER, "max"),
        State(ids.REPLAY_SPEED, "value"),
        State(ids.REPLAY_PLAYER, "disabled"),
        prevent_initial_call=True,
    )
    def control(_t: Any, _p: Any, _b: Any, _f: Any, jumps: list, value: float, end: float,
                speed: int, paused: bool) -> tuple:  # fmt: skip
        end = checks.number(end, "slider.max", 0.0, MAX_WINDOW_S)
        value = checks.number(value or 0.0, "slider.value", 0.0, MAX_WINDOW_S)
        speed = checks.one_of(speed, "speed", layout.SPEEDS)
        fired, playing = ctx.triggered_id, not checks.flag(paused, "paused")
        jump = isinstance(fired, dict) and any(jumps)
        jump_s = checks.number(fired["at"], "event.at", -MAX_WINDOW_S, MAX_WINDOW_S) if jump else 0
        step = "jump" if jump else _STEPS.get(fired) if isinstance(fired, str) else None
        return replay_page.player_step(step, value, end, speed, playing, jump_s)

    @app.callback(
        Output(ids.REPLAY_UNITS, "data"),
        Output(ids.REPLAY_TRAILS, "data"),
        Output(ids.REPLAY_INCIDENTS, "data"),
        Output(ids.REPLAY_UNIT_LIST, "children"),
        Output(ids.REPLAY_TIME, "children"),
        Input(ids.REPLAY_SLIDER, "value"),
        Input(ids.REPLAY_TRAIL, "value"),
        State(ids.REPLAY_WINDOW, "data"),
        prevent_initial_call=True,
    )
    def moment(offset_s: float | None, trail_min: int, data: dict[str, Any] | None) -> tuple:
        auth.require(deps.pool, "view_replay", "view_replay")
        window = store.window(data)
        if window is None:
            return (no_update,) * 5
        # Not the window's own length: the slider may still hold the last window's moment.
        offset_s = checks.number(offset_s or 0.0, "slider.value", 0.0, MAX_WINDOW_S)
        trail_min = checks.one_of(trail_min, "trail", layout.TRAIL_MINUTES)
        return replay_page.moment_shown(cache.get(*window), offset_s, trail_min, presence, tz)
