"""Replay callbacks: choose a window (and an area), play it, show the moment.

The window's tracks are read once (``geo.retention.track_window``), their
trails thinned once, and kept in this process, keyed by window and area;
every slider move only interpolates the moment here (``geo.replay``). Only
the GeoJSON of one moment goes to the browser, never the tracks.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import flask
import psycopg
from dash import ALL, Dash, Input, Output, State, ctx, html, no_update

from dashboard import auth, checks, ids
from dashboard import replay_store as store
from dashboard import replay_views as rviews
from dashboard.deps import Deps
from dashboard.layout import replay as layout
from geo import queries, replay_window, retention
from geo.replay import StatusEvent, StatusTimeline, Track, incident_status_events, snapshot_at
from geo.trails import Trail

CACHED_WINDOWS = 4
INCIDENT_CHOICES = 200
STATUS_LOOKBACK = timedelta(days=7)
AREA_KEYS = ("min_lon", "min_lat", "max_lon", "max_lat")


class Loaded(NamedTuple):
    """One window read from the database: what every moment of it needs.
    With an area, ``tracks`` are the units with a fix in it, ``incidents``
    those inside it, ``events`` theirs (see ``geo.replay_window.events_of``)."""

    start: datetime
    end: datetime
    area: rviews.Area | None
    tracks: dict[str, Track]
    trails: dict[str, Trail]
    statuses: StatusTimeline
    units: dict[str, dict[str, Any]]
    events: list[dict[str, Any]]
    incidents: list[dict[str, Any]]
    incident_statuses: StatusTimeline

    def listed_units(self) -> dict[str, dict[str, Any]]:
        """The roster, or with an area only the units it replays."""
        if self.area is None:
            return self.units
        return {u: row for u, row in self.units.items() if u in self.tracks}

    def timeline_events(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Incident events for the timeline: with an area, of its incidents only."""
        inside = {i["id"] for i in self.incidents}
        return [
            e
            for e in events
            if e["incident_id"] is not None and (self.area is None or e["incident_id"] in inside)
        ]


def _unit_statuses(
    conn: psycopg.Connection, window: dict[str, Any], events: list[dict[str, Any]]
) -> StatusTimeline:
    changes = [*queries.replay_status_before(conn, window), *events]
    return StatusTimeline(
        StatusEvent(e["at"], e["unit_id"], status)
        for e in changes
        if e["unit_id"] and (status := rviews.event_status(e["kind"], e["data"]))
    )


def load_window(
    conn: psycopg.Connection,
    start: datetime,
    end: datetime,
    area: rviews.Area | None,
    stale_s: float,
) -> Loaded:
    """Tracks (one read) and trails, unit and incident statuses, events and
    incidents of a window, limited to ``area`` when given."""
    box = {} if area is None else dict(zip(AREA_KEYS, area, strict=True))
    window = {"t1": start, "t2": end, "since": start - STATUS_LOOKBACK, **box}
    tracks = retention.track_window(conn, start, end, bbox=area)
    incidents = queries.replay_window_incidents(conn, window)
    changes = queries.replay_incident_changes(conn, [i["id"] for i in incidents], end)
    events = queries.replay_window_events(conn, window)
    statuses = _unit_statuses(conn, window, events)
    if area is not None:
        events = replay_window.events_of(events, {i["id"] for i in incidents}, set(tracks))
    return Loaded(
        start,
        end,
        area,
        tracks,
        rviews.prepare_trails(tracks, stale_s),
        statuses,
        {u["id"]: u for u in queries.unit_positions(conn, end)},
        events,
        incidents,
        StatusTimeline(incident_status_events(changes)),
    )


class WindowCache:
    """The last few windows loaded, per process (a worker loads its own)."""

    def __init__(self, deps: Deps, size: int = CACHED_WINDOWS) -> None:
        self._deps, self._size = deps, size
        self._windows: OrderedDict[tuple[str, str, str], Loaded] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, start: datetime, end: datetime, area: rviews.Area | None = None) -> Loaded:
        key = (start.isoformat(), end.isoformat(), rviews.area_text(area) if area else "")
        with self._lock:  # two callbacks of one new window must not both read it
            if key not in self._windows:
                with self._deps.read() as conn:
                    stale_s = self._deps.presence.stale_s
                    self._windows[key] = load_window(conn, start, end, area, stale_s)
                while len(self._windows) > self._size:
                    self._windows.popitem(last=False)
            self._windows.move_to_end(key)
            return self._windows[key]


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
    cache = WindowCache(deps)
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
        call_signs = {u: r["call_sign"] for u, r in loaded.units.items()}
        rows = rviews.timeline_entries(loaded.timeline_events(events), loaded.start, tz, call_signs)
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

    @app.server.get("/replay/export.<fmt>")
    def export(fmt: str) -> flask.Response:
        auth.require(deps.pool, "view_replay", "replay_export")
        checks.one_of(fmt, "format", ("geojson", "csv"))
        today = datetime.now(UTC).astimezone(tz).date()
        args = flask.request.args
        start, end = (
            checks.text(args.get("start"), "start"),
            checks.text(args.get("end"), "end"),
        )
        times, errors = rviews.typed_window(start, end, tz, today)
        if times is None:
            problem = "; ".join(f"{k}: {v}" for k, v in errors.items() if v)
            raise checks.BadInput("window", problem, f"{start} – {end}")
        try:
            area = rviews.parse_area(checks.text(args.get("area"), "area"))
        except ValueError as exc:
            raise checks.BadInput("area", str(exc), args.get("area")) from None
        loaded = cache.get(*times, area)
        call_signs = {u: r["call_sign"] for u, r in loaded.units.items()}
        t1, t2 = times
        name = f"replay-{t1:%Y%m%dT%H%M%S}Z-{t2:%Y%m%dT%H%M%S}Z.{fmt}"
        if fmt == "csv":
            body, mimetype = rviews.export_csv(loaded.tracks, loaded.events, call_signs), "text/csv"
        else:
            collection = rviews.export_geojson(loaded.tracks, loaded.events, call_signs)
            body, mimetype = flask.json.dumps(collection), "application/geo+json"
        response = flask.Response(body, mimetype=mimetype)
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
