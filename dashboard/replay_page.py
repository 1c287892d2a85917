"""What the replay page's callbacks return, from inputs already checked:
the area drawn, the window chosen, the window loaded, the player's step and
the moment shown. No database (the caller reads), no Dash context (the
caller says which input fired); ``NO`` stands for Dash's ``no_update``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dash import no_update

from dashboard import replay_store as store
from dashboard import replay_views as rviews
from dashboard.layout import replay as layout
from geo import replay_window
from geo.replay import snapshot_at
from usecases.replay import Loaded

NO = no_update


def area_drawn(found: rviews.Area | None, clicks: int) -> tuple:
    """(area, area layer, area text, draw toolbar) for a rectangle drawn."""
    if found is None:  # the control emptied itself (below), or a click drew nothing
        return (NO,) * 4
    # The control keeps every rectangle drawn: empty it, the area layer shows the one.
    clear = {"mode": "remove", "action": "clear all", "n_clicks": clicks + 1}
    return list(found), rviews.area_geojson(found), rviews.area_label(found), clear


AREA_CLEARED = (None, layout.EMPTY, layout.WHOLE_STATION, NO)


def area_changed(before: dict[str, Any] | None, area: list[float] | None) -> tuple:
    """(window, start, end, 3 errors): the same times with the new area,
    ``same_times`` so that the slider stays where it is."""
    window = {**before, "area": area, "same_times": True} if before else NO
    return window, NO, NO, NO, NO, NO


def incident_chosen(
    incident_id: int, log: list[dict[str, Any]], area: list[float] | None, tz: ZoneInfo
) -> tuple:
    """(window, start, end, 3 errors) for an incident's window (its log)."""
    found = replay_window.incident_window(log)
    if found is None:
        return NO, NO, NO, "no events logged", "", ""
    t1, t2 = found
    if too_long := rviews.check_window(t1, t2):
        return NO, NO, NO, f"its window: {too_long}", "", ""
    shown = rviews.local_text(t1, tz, True), rviews.local_text(t2, tz, True)
    return store.window_data(t1, t2, incident_id, area), *shown, "", "", ""


def times_typed(
    start: str, end: str, previous: store.Window | None, area: list[float] | None, tz: ZoneInfo
) -> tuple:
    """(window, start, end, 3 errors) for typed times (a bare time is on the
    day of the window shown, else today, station time)."""
    day = (previous[0] if previous else datetime.now(UTC)).astimezone(tz).date()
    times, errors = rviews.typed_window(start, end, tz, day)
    if times is None:
        return NO, NO, NO, "", errors["start"], errors["end"]
    return store.window_data(*times, None, area), NO, NO, "", "", ""


def _summary(loaded: Loaded) -> str:
    units = len(loaded.tracks)
    fixes = sum(len(t) for t in loaded.tracks.values())
    where = " with a fix in the area" if loaded.area else ""
    events = len(loaded.events)
    return f"{units} unit{'' if units == 1 else 's'}{where}, {fixes} fixes, {events} events."


def window_loaded(
    loaded: Loaded,
    data: dict[str, Any],
    offset_s: float,
    log: list[dict[str, Any]] | None,
    tz: ZoneInfo,
) -> tuple:
    """(slider max, value, marks, disabled, timeline, export links, message)
    for a window loaded; ``log`` is the event log of the incident it replays."""
    incident_id = data["incident_id"]
    events = loaded.events if log is None else [{**e, "incident_id": incident_id} for e in log]
    rows = rviews.timeline_entries(
        loaded.timeline_events(events), loaded.start, tz, loaded.call_signs()
    )
    length_s = (loaded.end - loaded.start).total_seconds()
    area = rviews.area_text(loaded.area) if loaded.area else None
    return (
        length_s,
        offset_s if data.get("same_times") else 0,  # set either way: redraws
        rviews.slider_marks(loaded.start, length_s, tz),
        False,
        layout.timeline(rows),
        layout.export_links(data["start"], data["end"], area, incident_id),
        _summary(loaded),
    )


def player_step(
    step: str | None, value: float, end: float, speed: int, playing: bool, jump_s: float = 0.0
) -> tuple:
    """(slider value, player disabled, play button text) after ``step``:
    ``tick`` (the player's interval), ``play`` (the button), ``back``,
    ``forward`` or ``jump`` (to ``jump_s``); None changes nothing."""
    if step == "tick":
        value += speed * layout.PLAY_EVERY_MS / 1000
    elif step == "play":
        playing = not playing
        value = 0.0 if playing and value >= end else value
    elif step in ("back", "forward"):
        value += layout.STEP_S if step == "forward" else -layout.STEP_S
    elif step == "jump":
        value = jump_s
    else:
        return NO, NO, NO
    value = min(max(value, 0.0), end)
    playing = playing and value < end
    return value, not playing, "❚❚ Pause" if playing else "▶ Play"


def moment_shown(
    loaded: Loaded, offset_s: float, trail_min: int, presence: tuple[float, float], tz: ZoneInfo
) -> tuple:
    """(units, trails, incidents, unit table, time text) ``offset_s`` seconds
    into the window; ``presence`` is (stale_s, offline_s)."""
    stale_s, offline_s = presence
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
