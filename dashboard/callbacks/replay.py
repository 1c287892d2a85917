"""Replay callbacks: choose a window (and an area), play it, show the moment.

The window is loaded once (``usecases.replay.load_window``) and kept in this
process (``replay_store.WindowCache``, shared with the export route); every
slider move only interpolates the moment here (``geo.replay``). Only the
GeoJSON of one moment goes to the browser, never the tracks.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from dash import ALL, Dash, Input, Output, State, ctx, html, no_update

from dashboard import auth, checks, ids
from dashboard import replay_store as store
from dashboard import replay_views as rviews
from dashboard.deps import Deps
from dashboard.layout import replay as layout
from dashboard.routes import replay as replay_routes
from geo import queries, replay_window
from geo.replay import snapshot_at

INCIDENT_CHOICES = 200


def page(deps: Deps) -> html.Div:
    user = auth.current_user(deps.pool)
    with deps.read() as conn:
        incidents = queries.replay_incident_list(conn, INCIDENT_CHOICES)
        roads, beats = queries.roads_geojson(conn), queries.beats_geojson(conn)
        bounds = queries.city_extent(conn)
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
    stale_s, offline_s, tz = deps.presence.stale_s, deps.presence.offline_s, deps.tz

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
            return None, layout.EMPTY, layout.WHOLE_STATION, no_update
        checks.drawn_ring(drawn)
        clicks = checks.integer((toolbar or {}).get("n_clicks", 0), "editToolbar.n_clicks")
        found = rviews.drawn_area(drawn)
        if found is None:  # the control emptied itself (below), or a click drew nothing
            return (no_update,) * 4
        # The control keeps every rectangle drawn: empty it, the area layer shows the one.
        clear = {
            "mode": "remove",
            "action": "clear all",
            "n_clicks": clicks + 1,
        }
        return list(found), rviews.area_geojson(found), rviews.area_label(found), clear

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
            # Same times: the slider stays where it is (see load).
            window = {**before, "area": area, "same_times": True} if before else no_update
            return window, no_update, no_update, no_update, no_update, no_update
        if ctx.triggered_id == ids.REPLAY_INCIDENT:
            if incident_id is None:
                return (no_update,) * 6
            found = replay_window.incident_window(store.incident_log(deps, incident_id))
            if found is None:
                return no_update, no_update, no_update, "no events logged", "", ""
            t1, t2 = found
            if too_long := rviews.check_window(t1, t2):
                return no_update, no_update, no_update, f"its window: {too_long}", "", ""
            shown = rviews.local_text(t1, tz, True), rviews.local_text(t2, tz, True)
            return store.window_data(t1, t2, incident_id, area), *shown, "", "", ""
        day = (previous[0] if previous else datetime.now(UTC)).astimezone(tz).date()
        times, errors = rviews.typed_window(start, end, tz, day)
        if times is None:
            return no_update, no_update, no_update, "", errors["start"], errors["end"]
        return store.window_data(*times, None, area), no_update, no_update, "", "", ""

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
        offset_s = checks.number(offset_s or 0.0, "slider.value", 0.0, replay_window.MAX_WINDOW_S)
        incident_id = data["incident_id"]
        log = None if incident_id is None else store.incident_log(deps, incident_id)
        loaded = cache.get(*window)
        if log is not None:
            events = [{**e, "incident_id": incident_id} for e in log]
        else:
            events = loaded.events
        rows = rviews.timeline_entries(
            loaded.timeline_events(events), loaded.start, tz, loaded.call_signs()
        )
        length_s = (loaded.end - loaded.start).total_seconds()
        fixes = sum(len(t) for t in loaded.tracks.values())
        where = " with a fix in the area" if loaded.area else ""
        area = rviews.area_text(loaded.area) if loaded.area else None
        return (
            length_s,
            offset_s if data.get("same_times") else 0,  # set either way: redraws
            rviews.slider_marks(loaded.start, length_s, tz),
            False,
            layout.timeline(rows),
            layout.export_links(data["start"], data["end"], area, incident_id),
            f"{len(loaded.tracks)} unit{'' if len(loaded.tracks) == 1 else 's'}{where},"
            f" {fixes} fixes, {len(loaded.events)} events.",
        )

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
        end = checks.number(end, "slider.max", 0.0, replay_window.MAX_WINDOW_S)
        value = checks.number(value or 0.0, "slider.value", 0.0, replay_window.MAX_WINDOW_S)
        speed = checks.one_of(speed, "speed", layout.SPEEDS)
        fired, playing = ctx.triggered_id, not checks.flag(paused, "paused")
        if fired == ids.REPLAY_PLAYER:
            value += speed * layout.PLAY_EVERY_MS / 1000
        elif fired == ids.REPLAY_PLAY:
            playing = not playing
            value = 0.0 if playing and value >= end else value
        elif fired in (ids.REPLAY_BACK, ids.REPLAY_FORWARD):
            value += layout.STEP_S if fired == ids.REPLAY_FORWARD else -layout.STEP_S
        elif isinstance(fired, dict) and any(jumps):
            limit = replay_window.MAX_WINDOW_S
            value = checks.number(fired["at"], "event.at", -limit, limit)
        else:
            return no_update, no_update, no_update
        value = min(max(value, 0.0), end)
        playing = playing and value < end
        return value, not playing, "❚❚ Pause" if playing else "▶ Play"

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
        offset_s = checks.number(offset_s or 0.0, "slider.value", 0.0, replay_window.MAX_WINDOW_S)
        trail_min = checks.one_of(trail_min, "trail", layout.TRAIL_MINUTES)
        loaded = cache.get(*window)
        at = loaded.start + timedelta(seconds=offset_s)
        points = snapshot_at(loaded.tracks, at, stale_s)
        statuses = {u: e.status for u, e in loaded.statuses.statuses_at(at).items()}
        listed = loaded.listed_units()
        return (
            rviews.replay_units_geojson(points, loaded.units, statuses, offline_s, tz),
            rviews.trails_geojson(loaded.trails, at, trail_min) if trail_min else layout.EMPTY,
            rviews.incidents_geojson_at(loaded.incidents, loaded.incident_statuses, at),
            layout.unit_table(rviews.replay_unit_rows(listed, points, statuses, offline_s)),
            f"{rviews.local_text(at, tz, True)} · +{rviews.offset_text(offset_s)}",
        )
