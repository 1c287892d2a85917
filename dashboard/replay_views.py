"""Replay: the window's tracks and event log -> what the replay page draws,
and the window's export (GeoJSON, CSV). Pure: no database, no Dash.

Times are timezone-aware UTC; ``tz`` is the station's time zone for what
the reviewer reads; positions are WGS84 degrees.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dashboard.views import _collection, _feature, incidents_geojson
from geo import event_data
from geo.replay import StatusTimeline, Track, TrackPoint, incidents_at
from geo.replay_window import MAX_WINDOW_S, parse_bbox, window_problem
from geo.trails import TRAIL_TOLERANCE_M, Trail, trails_for

REPLAY_MAX_WINDOW_S = MAX_WINDOW_S
AREA_DECIMALS = 6  # about 0.1 m: a drawn area and its export link name the same box
Area = tuple[float, float, float, float]
"""(min_lon, min_lat, max_lon, max_lat), WGS84 degrees."""


def parse_local_time(text: str | None, tz: ZoneInfo, day: date) -> datetime:
    """A time typed by the reviewer -> UTC: ISO 8601 (without an offset it is
    station time) or ``HH:MM`` / ``HH:MM:SS`` on ``day`` in station time.
    Raises ValueError with a message fit to show next to the field."""
    value = (text or "").strip()
    if not value:
        raise ValueError("required")
    try:
        if len(value) <= 8 and ":" in value:
            parsed = datetime.combine(day, time.fromisoformat(value))
        else:
            parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("use ISO 8601 (2026-03-02T10:15) or HH:MM") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(UTC)


def check_window(start: datetime, end: datetime) -> str | None:
    """Why a window cannot be replayed (shown next to the end field), or None."""
    return window_problem(start, end, REPLAY_MAX_WINDOW_S)


def typed_window(
    start: str | None, end: str | None, tz: ZoneInfo, day: date
) -> tuple[tuple[datetime, datetime] | None, dict[str, str]]:
    """Start and end as typed (see :func:`parse_local_time`), or None and
    what is wrong with each (``{"start": ..., "end": ...}``, empty when fine)."""
    errors = {"start": "", "end": ""}
    times: dict[str, datetime] = {}
    for name, text in (("start", start), ("end", end)):
        try:
            times[name] = parse_local_time(text, tz, day)
        except ValueError as exc:
            errors[name] = str(exc)
    if len(times) == 2:
        errors["end"] = check_window(times["start"], times["end"]) or ""
    if any(errors.values()):
        return None, errors
    return (times["start"], times["end"]), errors


def offset_text(seconds: float) -> str:
    """Seconds into the window as ``M:SS`` (minutes may pass 59)."""
    minutes, s = divmod(int(seconds), 60)
    return f"{minutes}:{s:02d}"


def slider_marks(
    start: datetime, length_s: float, tz: ZoneInfo, count: int = 6
) -> dict[float, str]:
    """A few local times under the slider, on whole minutes where the window allows."""
    step_s = max(60.0, round(length_s / count / 60.0) * 60.0)
    first_s = 60.0 - start.second - start.microsecond / 1e6 if start.second else 0.0
    marks, s = {}, first_s
    while s <= length_s:
        marks[s] = (start + timedelta(seconds=s)).astimezone(tz).strftime("%H:%M")
        s += step_s
    return marks


def parse_area(text: str | None) -> Area | None:
    """``min_lon,min_lat,max_lon,max_lat`` (WGS84 degrees) -> an :data:`Area`;
    None for no text. Raises ValueError saying what is wrong."""
    return parse_bbox(text) if text and text.strip() else None


def area_text(area: Area) -> str:
    """An area as its query parameter (what :func:`parse_area` reads)."""
    return ",".join(f"{v:.{AREA_DECIMALS}f}" for v in area)


def area_label(area: Area) -> str:
    """An area for the reviewer: its latitudes and longitudes, south to north, west to east."""
    return f"{area[1]:.4f}–{area[3]:.4f}° N, {area[0]:.4f}–{area[2]:.4f}° E"


def area_geojson(area: Area) -> dict[str, Any]:
    """An area as one rectangle to draw on the map."""
    w, s, e, n = area
    ring = [[w, s], [e, s], [e, n], [w, n], [w, s]]
    polygon = {"type": "Polygon", "coordinates": [ring]}
    return _collection([{"type": "Feature", "geometry": polygon, "properties": {}}])


def drawn_area(drawn: Mapping[str, Any] | None) -> Area | None:
    """The box around the last shape drawn on the map (a GeoJSON
    FeatureCollection, as the map's edit control gives it), rounded to
    :data:`AREA_DECIMALS`; None when nothing with an extent was drawn."""
    features = (drawn or {}).get("features") or []
    if not features:
        return None
    ring = features[-1]["geometry"]["coordinates"][0]
    lons, lats = [p[0] for p in ring], [p[1] for p in ring]
    box = (min(lons), min(lats), max(lons), max(lats))
    area = tuple(round(v, AREA_DECIMALS) for v in box)
    return (area[0], area[1], area[2], area[3]) if area[0] < area[2] and area[1] < area[3] else None


def local_text(at: datetime, tz: ZoneInfo, with_date: bool = False) -> str:
    """Station time, ``HH:MM:SS`` (or ``YYYY-MM-DD HH:MM:SS``)."""
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S")


def replay_units_geojson(
    points: Mapping[str, TrackPoint],
    units: Mapping[str, dict[str, Any]],
    statuses: Mapping[str, str],
    offline_s: float,
    tz: ZoneInfo,
) -> dict[str, Any]:
    """Each unit where it was shown at the moment, with the presence it had
    then (stale per the replay's own rule; offline past ``offline_s``)."""
    features = []
    for unit_id, p in sorted(points.items()):
        unit = units.get(unit_id, {})
        age_s = p.age_s
        shown = "offline" if age_s > offline_s else "stale" if p.stale else "online"
        props = {
            "id": unit_id,
            "call_sign": unit.get("call_sign", unit_id),
            "kind": unit.get("kind"),
            "status": statuses.get(unit_id, "unknown"),
            "presence": shown,
            "talkgroup": unit.get("talkgroup"),
            "phone": unit.get("phone"),
            "fix_time": local_text(p.fix_at, tz),
            "fix_age_s": round(age_s),
            "speed_kmh": None if p.speed_kmh is None else round(p.speed_kmh),
        }
        features.append(_feature(p.lon, p.lat, props))
    return _collection(features)


def prepare_trails(
    tracks: Mapping[str, Track], stale_s: float, tolerance_m: float = TRAIL_TOLERANCE_M
) -> dict[str, Trail]:
    """Every track cut at its gaps and thinned once, for :func:`trails_geojson`."""
    return trails_for(tracks, stale_s, tolerance_m)


def trails_geojson(trails: Mapping[str, Trail], at: datetime, minutes: float) -> dict[str, Any]:
    """The last ``minutes`` of each unit up to ``at`` as lines (thinned, never
    across a gap: see :class:`geo.trails.Trail`), one feature per line."""
    since = at - timedelta(minutes=minutes)
    features = []
    for unit_id, trail in sorted(trails.items()):
        for line in trail.lines(since, at):
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "LineString", "coordinates": line},
                    "properties": {"id": unit_id},
                }
            )
    return _collection(features)


def incidents_geojson_at(
    incidents: list[dict[str, Any]], statuses: StatusTimeline, at: datetime
) -> dict[str, Any]:
    """The incidents that existed at ``at``, each with its status then."""
    return incidents_geojson(incidents_at(incidents, statuses, at))


def replay_unit_rows(
    units: Mapping[str, dict[str, Any]],
    points: Mapping[str, TrackPoint],
    statuses: Mapping[str, str],
    offline_s: float,
) -> list[dict[str, Any]]:
    """The unit list at the moment: every roster unit, its status then, and
    whether it was on the map (online/stale/offline/no_fix)."""
    rows = []
    for unit_id, unit in sorted(units.items(), key=lambda u: u[1]["call_sign"]):
        p = points.get(unit_id)
        shown = "no_fix" if p is None else "offline" if p.age_s > offline_s else None
        rows.append(
            {
                "id": unit_id,
                "call_sign": unit["call_sign"],
                "kind": unit["kind"],
                "status": statuses.get(unit_id, "unknown"),
                "presence": shown or ("stale" if p and p.stale else "online"),
                "speed": "" if p is None or p.speed_kmh is None else f"{p.speed_kmh:.0f}",
            }
        )
    return rows


def timeline_entries(
    events: list[dict[str, Any]],
    start: datetime,
    tz: ZoneInfo,
    call_signs: Mapping[str, str],
) -> list[dict[str, Any]]:
    """The incident's log as timeline rows: local time, offset into the
    window (seconds), what happened and who; a ``suggestions_shown`` row
    lists the ranked units (call sign, ETA in minutes) and which of them the
    next dispatch of that incident sent."""
    rows = []
    for i, e in enumerate(events):
        data = event_data.data_of(e)
        who = call_signs.get(e["unit_id"], e["unit_id"]) if e.get("unit_id") else ""
        row = {
            "id": e["id"],
            "offset_s": (e["at"] - start).total_seconds(),
            "time": local_text(e["at"], tz),
            "kind": e["kind"],
            "unit": who,
            "actor": e["actor"],
            "ranked": [],
            "detail": event_data.closing_text(data, "both")
            if e["kind"] == "closed"
            else event_data.changes_text(data)
            if e["kind"] == "updated"
            else "",
        }
        if e["kind"] == "suggestions_shown":
            chosen = next(
                (
                    later["unit_id"]
                    for later in events[i + 1 :]
                    if later["kind"] == "dispatched"
                    and later.get("incident_id", e.get("incident_id")) == e.get("incident_id")
                ),
                None,
            )
            ranked = event_data.ranked_of(data)
            row["ranked"] = [
                {
                    "call_sign": event_data.call_sign_of(r, call_signs),
                    "eta": event_data.eta_text(r.get("eta_s")),
                    "chosen": chosen is not None and event_data.unit_of(r) == chosen,
                }
                for r in ranked
            ]
            if chosen and all(event_data.unit_of(r) != chosen for r in ranked):
                row["unit"] = f"override: {call_signs.get(chosen, chosen)}"
        rows.append(row)
    return rows


def _json_safe(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def export_geojson(
    tracks: Mapping[str, Track], events: list[dict[str, Any]], call_signs: Mapping[str, str]
) -> dict[str, Any]:
    """The window as one FeatureCollection: a LineString per unit (a Point
    for a single fix) with its fix times (ISO 8601, UTC) in ``times``, then
    every event, at its place when it has one."""
    features: list[dict[str, Any]] = []
    for unit_id, track in sorted(tracks.items()):
        coords = [[f.lon, f.lat] for f in track.fixes]
        geometry = (
            {"type": "LineString", "coordinates": coords}
            if len(coords) > 1
            else {"type": "Point", "coordinates": coords[0]}
        )
        props = {
            "record": "track",
            "unit_id": unit_id,
            "call_sign": call_signs.get(unit_id, unit_id),
            "times": [f.fix_at.isoformat() for f in track.fixes],
            "speed_kmh": [f.speed_kmh for f in track.fixes],
        }
        features.append({"type": "Feature", "geometry": geometry, "properties": props})
    for e in events:
        where: dict[str, Any] | None = (
            None if e["lon"] is None else {"type": "Point", "coordinates": [e["lon"], e["lat"]]}
        )
        props = {k: _json_safe(v) for k, v in e.items() if k not in ("lon", "lat")}
        features.append(
            {"type": "Feature", "geometry": where, "properties": {"record": "event", **props}}
        )
    return _collection(features)


EXPORT_COLUMNS = (
    "record", "at", "unit_id", "call_sign", "lon", "lat", "speed_kmh", "heading_deg",
    "kind", "actor", "incident_id", "order_id", "data",
)  # fmt: skip


def export_csv(
    tracks: Mapping[str, Track], events: list[dict[str, Any]], call_signs: Mapping[str, str]
) -> str:
    """The window as CSV: one ``fix`` row per stored fix, then one ``event``
    row per event (``data`` as JSON); times ISO 8601 UTC, degrees WGS84."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for unit_id, track in sorted(tracks.items()):
        for f in track.fixes:
            writer.writerow(
                {
                    "record": "fix",
                    "at": f.fix_at.isoformat(),
                    "unit_id": unit_id,
                    "call_sign": call_signs.get(unit_id, unit_id),
                    "lon": f.lon,
                    "lat": f.lat,
                    "speed_kmh": f.speed_kmh,
                    "heading_deg": f.heading_deg,
                }
            )
    for e in events:
        writer.writerow(
            {
                **e,
                "record": "event",
                "at": e["at"].isoformat(),
                "call_sign": call_signs.get(e["unit_id"], "") if e["unit_id"] else "",
                "data": json.dumps(e["data"], default=str, ensure_ascii=False),
            }
        )
    return out.getvalue()
