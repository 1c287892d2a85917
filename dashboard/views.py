"""Rows from geo.queries -> what the page draws (GeoJSON, counters). Pure."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dashboard.i18n import t
from geo.cameras import fov_cone
from geo.coverage import Coverage
from geo.replay import Track, TrackPoint, segment_between, split_at_gaps

PRESENCE_ORDER = ("online", "stale", "offline", "no_fix")


def presence(fix_age_s: float | None, stale_s: float, offline_s: float) -> str:
    """online / stale / offline by seconds since the last fix; ``no_fix`` if none."""
    if fix_age_s is None:
        return "no_fix"
    if fix_age_s <= stale_s:
        return "online"
    return "stale" if fix_age_s <= offline_s else "offline"


def _feature(lon: float, lat: float, props: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": props,
    }


def _collection(features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}


def units_geojson(
    rows: list[dict[str, Any]], stale_s: float, offline_s: float, tz: ZoneInfo
) -> dict[str, Any]:
    """Units with a fix as points; properties carry what the tooltip shows."""
    features = []
    for r in rows:
        if r["lon"] is None:
            continue
        features.append(
            _feature(
                r["lon"],
                r["lat"],
                {
                    "id": r["id"],
                    "call_sign": r["call_sign"],
                    "kind": r["kind"],
                    "status": r["status"],
                    "presence": presence(r["fix_age_s"], stale_s, offline_s),
                    "talkgroup": r["talkgroup"],
                    "phone": r["phone"],
                    "beat": r["home_beat"],
                    "fix_time": r["fix_at"].astimezone(tz).strftime("%H:%M:%S"),
                    "fix_age_s": round(r["fix_age_s"]),
                    "speed_kmh": None if r["speed_kmh"] is None else round(r["speed_kmh"]),
                    "heading_deg": r["heading_deg"],
                    "incident_id": r.get("incident_id"),
                },
            )
        )
    return _collection(features)


def presence_counts(rows: list[dict[str, Any]], stale_s: float, offline_s: float) -> dict[str, int]:
    """How many roster units are online / stale / offline / without any fix."""
    counts = Counter(presence(r["fix_age_s"], stale_s, offline_s) for r in rows)
    return {key: counts.get(key, 0) for key in PRESENCE_ORDER}


def status_counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Units by dispatch status (available, dispatched, ...), most common first."""
    return dict(Counter(r["status"] for r in rows).most_common())


def cameras_geojson(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return _collection(
        [
            _feature(
                r["lon"],
                r["lat"],
                {
                    "id": r["id"],
                    "name": r["name"],
                    "bearing_deg": r["bearing_deg"],
                    "fov_deg": r["fov_deg"],
                    "range_m": r["range_m"],
                    "stream_url": r["stream_url"],
                },
            )
            for r in rows
        ]
    )


def camera_cones_geojson(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Each camera's field of view as a polygon."""
    return _collection(
        [
            {
                "type": "Feature",
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [
                            list(p)
                            for p in fov_cone(
                                r["lon"], r["lat"], r["bearing_deg"], r["fov_deg"], r["range_m"]
                            )
                        ]
                    ],
                },
                "properties": {"id": r["id"], "name": r["name"]},
            }
            for r in rows
        ]
    )


def stations_geojson(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return _collection(
        [
            _feature(r["lon"], r["lat"], {"id": r["id"], "name": r["name"], "phone": r["phone"]})
            for r in rows
        ]
    )


def clock_text(now: datetime, tz: ZoneInfo) -> str:
    """The station's local time for the header, e.g. ``2026-11-28 19:04:05 EET``."""
    return now.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S %Z")


def _waiting(age_s: float) -> str:
    minutes, seconds = divmod(int(age_s), 60)
    return f"{minutes}:{seconds:02d}"


def queue_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Incident queue rows; an unassigned P1 is flagged so the table marks it."""
    return [
        {
            "id": r["id"],
            "priority": r["priority"],
            "type_label": r["name_en"],
            "status": r["status"],
            "waiting": _waiting(r["age_s"]),
            "units": r["units"] or "",
            "unassigned_p1": int(r["priority"] == 1 and r["status"] == "open"),
        }
        for r in rows
    ]


def incidents_geojson(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return _collection(
        [
            _feature(
                r["lon"],
                r["lat"],
                {
                    "id": r["id"],
                    "priority": r["priority"],
                    "type": r["name_en"],
                    "status": r["status"],
                    "unassigned": r["status"] == "open",
                },
            )
            for r in rows
        ]
    )


def unit_rows(rows: list[dict[str, Any]], stale_s: float, offline_s: float) -> list[dict[str, Any]]:
    """The desk's unit list: one row per roster unit."""
    return [
        {
            "id": r["id"],
            "call_sign": r["call_sign"],
            "kind": r["kind"],
            "status": r["status"],
            "beat": r["home_beat"],
            "presence": presence(r["fix_age_s"], stale_s, offline_s),
            "talkgroup": r["talkgroup"],
            "phone": r["phone"],
        }
        for r in rows
    ]


def filter_units(
    rows: list[dict[str, Any]], search: str | None, kind: str | None, status: str | None
) -> list[dict[str, Any]]:
    """Units matching a free-text search (call sign, talkgroup, phone, beat) and filters."""
    needle = (search or "").strip().lower()
    return [
        r
        for r in rows
        if (not kind or r["kind"] == kind)
        and (not status or r["status"] == status)
        and (
            not needle
            or any(
                needle in str(r[k] or "").lower()
                for k in ("call_sign", "talkgroup", "phone", "beat")
            )
        )
    ]


def suggestions_key(
    incident_id: int,
    ranked: list[dict[str, Any]],
    shortfall: str | None,
    excluded: list[dict[str, Any]],
    orders: list[dict[str, Any]],
) -> str:
    """What the desk's incident panel shows, coarsely: the same key means
    nothing worth redrawing (ETAs to the nearest 10 s, fix ages ignored)."""
    picks = [(r["unit_id"], round(r["eta_s"] / 10)) for r in ranked]
    stale = sorted(e["unit_id"] for e in excluded if e["reason"] == "stale_fix")
    states = [(o["id"], o["state"], o["published_at"] is not None) for o in orders]
    return repr((incident_id, picks, shortfall, stale, states))


ALARM_LABEL = {
    "emergency": "EMERGENCY",
    "unacknowledged": "not acknowledged",
    "not_enroute": "not en route",
    "not_onscene": "not on scene",
    "feedback_overdue": "feedback overdue",
    "incident_waiting": "waiting for a unit",
}
FRESH_S = 60.0


def wall_alarms(
    open_alarms: list[dict[str, Any]],
    units: list[dict[str, Any]],
    now: datetime,
    stale_s: float,
    offline_s: float,
    lang: str = "en",
) -> list[dict[str, Any]]:
    """The wall's alarm strip: open alarms (most severe first), then units whose
    fix is stale or who went offline. ``fresh`` marks alarms of the last minute."""
    call_sign = {u["id"]: u["call_sign"] for u in units}
    out = []
    for a in open_alarms:
        who = call_sign.get(a["unit_id"], "") if a["unit_id"] else ""
        where = f"#{a['incident_id']}" if a["incident_id"] else ""
        label = t(ALARM_LABEL.get(a["kind"], a["kind"]), lang)
        text = " ".join(p for p in (label, who, where) if p)
        out.append(
            {
                "text": text,
                "severity": a["severity"],
                "fresh": (now - a["raised_at"]).total_seconds() < FRESH_S,
            }
        )
    for u in units:
        state = presence(u["fix_age_s"], stale_s, offline_s)
        if state in ("stale", "offline"):
            text = f"{u['call_sign']} {t(state, lang)}"
            out.append({"text": text, "severity": 3, "fresh": False})
    return out


# Replay: the window's tracks and event log -> what the replay page draws. Pure.

REPLAY_MARGIN_S = 120.0
REPLAY_MAX_WINDOW_S = 12 * 3600.0
# The status an event leaves its unit in: apply_action writes ``to``, a
# dispatch writes ``status``; other kinds (order_published, alarms) leave it.
_STATUS_KEYS = ("to", "status")


def event_status(kind: str, data: dict[str, Any] | None) -> str | None:
    """The unit status an event leaves behind, or None when it changes none
    (a refused transition changes nothing even though it names a status)."""
    if kind == "transition_refused" or not data:
        return None
    return next((str(data[k]) for k in _STATUS_KEYS if data.get(k)), None)


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
    if end <= start:
        return "must be after the start"
    if (end - start).total_seconds() > REPLAY_MAX_WINDOW_S:
        return f"a window is at most {REPLAY_MAX_WINDOW_S / 3600:.0f} h"
    return None


def incident_window(
    events: list[dict[str, Any]], margin_s: float = REPLAY_MARGIN_S
) -> tuple[datetime, datetime] | None:
    """An incident's lifetime from its event log (oldest first): from
    ``created`` to ``closed`` (or its last event), ``margin_s`` each side."""
    if not events:
        return None
    created = next((e["at"] for e in events if e["kind"] == "created"), events[0]["at"])
    closed = next((e["at"] for e in events if e["kind"] == "closed"), events[-1]["at"])
    margin = timedelta(seconds=margin_s)
    return created - margin, max(closed, created) + margin


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


def trails_geojson(
    tracks: Mapping[str, Track], at: datetime, minutes: float, stale_s: float
) -> dict[str, Any]:
    """The last ``minutes`` of each track up to ``at`` as lines, cut at gaps
    longer than ``stale_s`` (no line is drawn across a silence)."""
    since = at - timedelta(minutes=minutes)
    features = []
    for unit_id, track in sorted(tracks.items()):
        if not track.fixes or track.fixes[0].fix_at > at or track.fixes[-1].fix_at < since:
            continue
        for piece in split_at_gaps(segment_between(track, since, at, stale_s), stale_s):
            if len(piece) >= 2:
                line = [[f.lon, f.lat] for f in piece.fixes]
                features.append(
                    {
                        "type": "Feature",
                        "geometry": {"type": "LineString", "coordinates": line},
                        "properties": {"id": unit_id},
                    }
                )
    return _collection(features)


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
        data = e.get("data") or {}
        who = call_signs.get(e["unit_id"], e["unit_id"]) if e.get("unit_id") else ""
        row = {
            "id": e["id"],
            "offset_s": (e["at"] - start).total_seconds(),
            "time": local_text(e["at"], tz),
            "kind": e["kind"],
            "unit": who,
            "actor": e["actor"],
            "ranked": [],
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
            row["ranked"] = [
                {
                    "call_sign": r.get("call_sign") or call_signs.get(r["unit_id"], r["unit_id"]),
                    "eta": "" if r.get("eta_s") is None else f"{r['eta_s'] / 60:.1f} min",
                    "chosen": r["unit_id"] == chosen,
                }
                for r in data.get("ranked", [])
            ]
            if chosen and all(r["unit_id"] != chosen for r in data.get("ranked", [])):
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


def coverage_percent(covered_m: float, total_m: float) -> int:
    """Covered share of the road network in whole percent, rounded down so
    "100 %" means every metre is covered; 0 when there are no roads."""
    return int(covered_m / total_m * 100) if total_m > 0 else 0


def with_coverage(ranked: list[dict[str, Any]], cover: Coverage) -> list[dict[str, Any]]:
    """Suggestion rows with ``coverage_pct`` (share of the road network still
    covered within the target if this unit is sent, whole %) and
    ``coverage_drop_pct`` (how many points that is below now)."""
    now_pct = coverage_percent(cover.covered_m, cover.total_m)
    out = []
    for r in ranked:
        after = coverage_percent(cover.covered_without_m(r["unit_id"]), cover.total_m)
        out.append({**r, "coverage_pct": after, "coverage_drop_pct": now_pct - after})
    return out


def coverage_key(ranked: list[dict[str, Any]]) -> str:
    """The coverage figures the suggestions table shows, for the no-redraw key."""
    return repr([(r["unit_id"], r.get("coverage_pct")) for r in ranked])


def coverage_note(cover: Coverage) -> str:
    """One line on the desk: how much road available vehicles cover now."""
    pct = coverage_percent(cover.covered_m, cover.total_m)
    minutes = cover.target_s / 60
    return (
        f"Now {pct} % of the road network is within {minutes:g} min of an available "
        f"vehicle ({len(cover.unit_ids)} counted)."
    )


def coverage_geojson(cover: Coverage) -> dict[str, Any]:
    """The covered road as one MultiLineString feature (none when nothing is
    covered); properties carry the share and the target."""
    lines = cover.lines()
    if not lines:
        return _collection([])
    return _collection(
        [
            {
                "type": "Feature",
                "geometry": {"type": "MultiLineString", "coordinates": lines},
                "properties": {
                    "covered_pct": coverage_percent(cover.covered_m, cover.total_m),
                    "target_s": cover.target_s,
                },
            }
        ]
    )


def coverage_layer_key(cover: Coverage) -> str:
    """Changes whenever the drawn coverage would (metres covered, units counted)."""
    return f"{cover.target_s:.0f}:{cover.covered_m:.0f}:{','.join(sorted(cover.unit_ids))}"
