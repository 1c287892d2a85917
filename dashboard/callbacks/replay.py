"""Replay callbacks: choose a window, play it, show the moment.

The window's tracks are read once (``geo.retention.track_window``) and kept
in this process, keyed by window; every slider move asks only for the
snapshot at that moment, interpolated here (``geo.replay``). Only the
GeoJSON of one moment goes to the browser, never the tracks.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import flask
import psycopg
from dash import ALL, Dash, Input, Output, State, ctx, html, no_update
from werkzeug.exceptions import BadRequest

from dashboard import auth, ids, views
from dashboard.deps import Deps
from dashboard.layout import replay as layout
from geo import incidents as inc
from geo import queries, retention
from geo.replay import StatusEvent, StatusTimeline, Track, snapshot_at

CACHED_WINDOWS = 4
INCIDENT_CHOICES = 200
STATUS_LOOKBACK = timedelta(days=7)


class Loaded(NamedTuple):
    """One window read from the database: what every moment of it needs."""

    start: datetime
    end: datetime
    tracks: dict[str, Track]
    statuses: StatusTimeline
    units: dict[str, dict[str, Any]]
    events: list[dict[str, Any]]
    incidents: list[dict[str, Any]]


def load_window(conn: psycopg.Connection, start: datetime, end: datetime) -> Loaded:
    """Tracks (one read), unit statuses, events and incidents of a window."""
    window = {"t1": start, "t2": end, "since": start - STATUS_LOOKBACK}
    events = queries.replay_window_events(conn, window)
    changes = [*queries.replay_status_before(conn, window), *events]
    statuses = StatusTimeline(
        StatusEvent(e["at"], e["unit_id"], status)
        for e in changes
        if e["unit_id"] and (status := views.event_status(e["kind"], e["data"]))
    )
    return Loaded(
        start,
        end,
        retention.track_window(conn, start, end),
        statuses,
        {u["id"]: u for u in queries.unit_positions(conn, end)},
        events,
        queries.replay_window_incidents(conn, window),
    )


class WindowCache:
    """The last few windows loaded, per process (a worker loads its own)."""

    def __init__(self, deps: Deps, size: int = CACHED_WINDOWS) -> None:
        self._deps, self._size = deps, size
        self._windows: OrderedDict[tuple[str, str], Loaded] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, start: datetime, end: datetime) -> Loaded:
        key = (start.isoformat(), end.isoformat())
        with self._lock:  # two callbacks of one new window must not both read it
            if key not in self._windows:
                with self._deps.pool.connection() as conn:
                    self._windows[key] = load_window(conn, start, end)
                while len(self._windows) > self._size:
                    self._windows.popitem(last=False)
            self._windows.move_to_end(key)
            return self._windows[key]


def _window(data: dict[str, Any] | None) -> tuple[datetime, datetime] | None:
    if not data:
        return None
    return datetime.fromisoformat(data["start"]), datetime.fromisoformat(data["end"])


def page(deps: Deps) -> html.Div:
    user = auth.current_user(deps.pool)
    with deps.pool.connection() as conn:
        incidents = queries.replay_incident_list(conn, INCIDENT_CHOICES)
        roads, beats = queries.roads_geojson(conn), queries.beats_geojson(conn)
        bounds = queries.city_extent(conn)
    choices = [
        {
            "id": r["id"],
            "label": f"#{r['id']} {r['name_en']} · P{r['priority']} · "
            f"{views.local_text(r['created_at'], deps.tz, with_date=True)} · {r['status']}",
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
        Output(ids.REPLAY_WINDOW, "data"),
        Output(ids.REPLAY_START, "value"),
        Output(ids.REPLAY_END, "value"),
        *[Output(layout.error_id(f), "children") for f in ("incident", "start", "end")],
        Input(ids.REPLAY_INCIDENT, "value"),
        Input(ids.REPLAY_LOAD, "n_clicks"),
        State(ids.REPLAY_START, "value"),
        State(ids.REPLAY_END, "value"),
        State(ids.REPLAY_WINDOW, "data"),
        prevent_initial_call=True,
    )
    def choose(incident_id: int | None, _n: Any, start: str, end: str, before: Any) -> tuple:
        auth.require(deps.pool, "view_replay", "view_replay")
        if ctx.triggered_id == ids.REPLAY_INCIDENT:
            if incident_id is None:
                return (no_update,) * 6
            with deps.pool.connection() as conn:
                found = views.incident_window(inc.incident_events(conn, incident_id))
            if found is None:
                return no_update, no_update, no_update, "no events logged", "", ""
            t1, t2 = found
            shown = views.local_text(t1, tz, True), views.local_text(t2, tz, True)
            return _window_data(t1, t2, incident_id), *shown, "", "", ""
        previous = _window(before)
        day = (previous[0] if previous else datetime.now(UTC)).astimezone(tz).date()
        errors = {"start": "", "end": ""}
        times: dict[str, datetime] = {}
        for name, text in (("start", start), ("end", end)):
            try:
                times[name] = views.parse_local_time(text, tz, day)
            except ValueError as exc:
                errors[name] = str(exc)
        if len(times) == 2:
            errors["end"] = views.check_window(times["start"], times["end"]) or ""
        if any(errors.values()):
            return no_update, no_update, no_update, "", errors["start"], errors["end"]
        return _window_data(times["start"], times["end"], None), no_update, no_update, "", "", ""

    @app.callback(
        Output(ids.REPLAY_SLIDER, "max"),
        Output(ids.REPLAY_SLIDER, "value", allow_duplicate=True),
        Output(ids.REPLAY_SLIDER, "marks"),
        Output(ids.REPLAY_SLIDER, "disabled"),
        Output(ids.REPLAY_TIMELINE, "children"),
        Output(ids.REPLAY_INCIDENTS, "data"),
        Output(ids.REPLAY_EXPORT, "children"),
        Output(ids.REPLAY_MESSAGE, "children"),
        Input(ids.REPLAY_WINDOW, "data"),
        prevent_initial_call=True,
    )
    def load(data: dict[str, Any] | None) -> tuple:
        auth.require(deps.pool, "view_replay", "view_replay")
        window = _window(data)
        if window is None or data is None:
            return (no_update,) * 8
        loaded = cache.get(*window)
        if data.get("incident_id") is not None:
            with deps.pool.connection() as conn:
                events = inc.incident_events(conn, data["incident_id"])
        else:
            events = [e for e in loaded.events if e["incident_id"] is not None]
        call_signs = {u: r["call_sign"] for u, r in loaded.units.items()}
        rows = views.timeline_entries(events, loaded.start, tz, call_signs)
        length_s = (loaded.end - loaded.start).total_seconds()
        fixes = sum(len(t) for t in loaded.tracks.values())
        return (
            length_s,
            0,
            _marks(loaded.start, length_s, tz),
            False,
            layout.timeline(rows),
            views.incidents_geojson(loaded.incidents),
            layout.export_links(data["start"], data["end"]),
            f"{len(loaded.tracks)} units, {fixes} fixes, {len(loaded.events)} events.",
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
        fired, value = ctx.triggered_id, value or 0.0
        playing = not paused
        if fired == ids.REPLAY_PLAYER:
            value += speed * layout.PLAY_EVERY_MS / 1000
        elif fired == ids.REPLAY_PLAY:
            playing = not playing
            value = 0.0 if playing and value >= end else value
        elif fired in (ids.REPLAY_BACK, ids.REPLAY_FORWARD):
            value += layout.STEP_S if fired == ids.REPLAY_FORWARD else -layout.STEP_S
        elif isinstance(fired, dict) and any(jumps):
            value = float(fired["at"])
        else:
            return no_update, no_update, no_update
        value = min(max(value, 0.0), end)
        playing = playing and value < end
        return value, not playing, "❚❚ Pause" if playing else "▶ Play"

    @app.callback(
        Output(ids.REPLAY_UNITS, "data"),
        Output(ids.REPLAY_TRAILS, "data"),
        Output(ids.REPLAY_UNIT_LIST, "children"),
        Output(ids.REPLAY_TIME, "children"),
        Input(ids.REPLAY_SLIDER, "value"),
        Input(ids.REPLAY_TRAIL, "value"),
        State(ids.REPLAY_WINDOW, "data"),
        prevent_initial_call=True,
    )
    def moment(offset_s: float | None, trail_min: int, data: dict[str, Any] | None) -> tuple:
        auth.require(deps.pool, "view_replay", "view_replay")
        window = _window(data)
        if window is None:
            return (no_update,) * 4
        loaded = cache.get(*window)
        at = loaded.start + timedelta(seconds=offset_s or 0.0)
        points = snapshot_at(loaded.tracks, at, stale_s)
        statuses = {u: e.status for u, e in loaded.statuses.statuses_at(at).items()}
        trails = views.trails_geojson(loaded.tracks, at, trail_min, stale_s) if trail_min else None
        return (
            views.replay_units_geojson(points, loaded.units, statuses, offline_s, tz),
            trails or layout.EMPTY,
            layout.unit_table(views.replay_unit_rows(loaded.units, points, statuses, offline_s)),
            f"{views.local_text(at, tz, True)} · +{_clock(offset_s or 0.0)}",
        )

    @app.server.get("/replay/export.<fmt>")
    def export(fmt: str) -> flask.Response:
        auth.require(deps.pool, "view_replay", "replay_export")
        if fmt not in ("geojson", "csv"):
            raise BadRequest("export as .geojson or .csv")
        today = datetime.now(UTC).astimezone(tz).date()
        try:
            t1 = views.parse_local_time(flask.request.args.get("start"), tz, today)
            t2 = views.parse_local_time(flask.request.args.get("end"), tz, today)
        except ValueError as exc:
            raise BadRequest(f"start/end: {exc}") from None
        if (problem := views.check_window(t1, t2)) is not None:
            raise BadRequest(f"end {problem}")
        loaded = cache.get(t1, t2)
        call_signs = {u: r["call_sign"] for u, r in loaded.units.items()}
        name = f"replay-{t1:%Y%m%dT%H%M%S}Z-{t2:%Y%m%dT%H%M%S}Z.{fmt}"
        if fmt == "csv":
            body, mimetype = views.export_csv(loaded.tracks, loaded.events, call_signs), "text/csv"
        else:
            collection = views.export_geojson(loaded.tracks, loaded.events, call_signs)
            body, mimetype = flask.json.dumps(collection), "application/geo+json"
        response = flask.Response(body, mimetype=mimetype)
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


def _window_data(start: datetime, end: datetime, incident_id: int | None) -> dict[str, Any]:
    return {"start": start.isoformat(), "end": end.isoformat(), "incident_id": incident_id}


def _clock(seconds: float) -> str:
    minutes, s = divmod(int(seconds), 60)
    return f"{minutes}:{s:02d}"


def _marks(start: datetime, length_s: float, tz: ZoneInfo, count: int = 6) -> dict[float, str]:
    """A few local times under the slider, on whole minutes where the window allows."""
    step_s = max(60.0, round(length_s / count / 60.0) * 60.0)
    first_s = 60.0 - start.second - start.microsecond / 1e6 if start.second else 0.0
    marks, s = {}, first_s
    while s <= length_s:
        marks[s] = (start + timedelta(seconds=s)).astimezone(tz).strftime("%H:%M")
        s += step_s
    return marks
