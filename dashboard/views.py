"""Rows from geo.queries -> what the page draws (GeoJSON, counters). Pure."""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from dashboard.i18n import t
from geo.cameras import fov_cone
from geo.coverage import Coverage, coverage_percent

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


def cameras_geojson(
    rows: list[dict[str, Any]], health: dict[str, str | None] | None = None
) -> dict[str, Any]:
    """Cameras as points with their view and ``health`` (``camera_id`` ->
    status; a camera never checked is ``unchecked``). Never the stream URL:
    it may carry credentials, and pictures go through the server's proxy."""
    health = health or {}
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
                    "health": health.get(r["id"]) or "unchecked",
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
            "type_zh": r["name_zh"],
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


def unit_rows(
    rows: list[dict[str, Any]], stale_s: float, offline_s: float, tz: ZoneInfo | None = None
) -> list[dict[str, Any]]:
    """The desk's unit list: one row per roster unit; with ``tz``, ``since``
    is the station's local time (HH:MM) the status began, where known, and
    ``reason`` what a person set it for."""
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
            "since": r["status_since"].astimezone(tz).strftime("%H:%M")
            if tz and r.get("status_since")
            else "",
            "reason": r.get("status_reason") or "",
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


def suggestions_layout_key(
    incident_id: int,
    ranked: list[dict[str, Any]],
    shortfall: str | None,
    excluded: list[dict[str, Any]],
) -> str:
    """What the suggestion rows are, figures aside: the units in their order,
    their reasons, whether a unit's coverage cost is marked, the shortfall and
    the stale units listed under the table."""
    rows = [
        (r["unit_id"], tuple(r["reasons"]), int(r.get("coverage_drop_pct") or 0) >= 5)
        for r in ranked
    ]
    stale = sorted(e["unit_id"] for e in excluded if e["reason"] == "stale_fix")
    return repr((incident_id, rows, shortfall, stale))


ALARM_LABEL = {
    "emergency": "EMERGENCY",
    "unacknowledged": "not acknowledged",
    "not_enroute": "not en route",
    "not_onscene": "not on scene",
    "feedback_overdue": "feedback overdue",
    "incident_waiting": "waiting for a unit",
    "outside_beat": "outside beat",
    "camera_dark": "camera dark",
    "welfare": "welfare check",
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
        where = f"#{a['incident_id']}" if a["incident_id"] else (a.get("camera_id") or "")
        label = t(ALARM_LABEL.get(a["kind"], a["kind"]), lang)
        text = " ".join(p for p in (label, who, where) if p)
        taken_by = a.get("taken_by")
        if taken_by:
            text += " · " + t("taken by {who}", lang, who=taken_by)
        out.append(
            {
                "id": a.get("id"),
                "kind": a["kind"],
                "text": text,
                "severity": a["severity"],
                "fresh": not taken_by and (now - a["raised_at"]).total_seconds() < FRESH_S,
                "taken_by": taken_by,
            }
        )
    lost: dict[str, list[str]] = {"stale": [], "offline": []}
    for u in units:
        state = presence(u["fix_age_s"], stale_s, offline_s)
        if state in lost:
            lost[state].append(u["call_sign"])
    for state, signs in lost.items():
        if len(signs) > MAX_PRESENCE_CHIPS:
            # A feed outage: one chip that counts them, not a wall of chips
            # that pushes the real alarms out of sight.
            text = t("{count} units " + state, lang, count=len(signs))
            out.append({"text": text, "severity": 3, "fresh": False})
        else:
            out.extend(
                {"text": f"{sign} {t(state, lang)}", "severity": 3, "fresh": False}
                for sign in signs
            )
    return out


# More units than this stale (or offline) at once show as one chip with their count.
MAX_PRESENCE_CHIPS = 8


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


def _untied_props(r: dict[str, Any], state: str, tz: ZoneInfo, lang: str) -> dict[str, Any]:
    unknown = r["kind"] == "unknown"
    return {
        "id": r["device_id"],
        "kind": r["kind"],
        "format": r["format"],
        "initial": (r["format"] or "?")[:1].upper(),
        "on_roster": not unknown,
        "tie": t("not on the roster" if unknown else "no unit", lang),
        "presence": state,
        "fix_label": t("last fix", lang),
        "fix_time": r["fix_at"].astimezone(tz).strftime("%H:%M:%S"),
        "fix_at": r["fix_at"].isoformat(),
        "fix_age_s": round(r["fix_age_s"]),
        "speed_kmh": None if r["speed_kmh"] is None else round(r["speed_kmh"]),
        "acc_m": None if r["acc_m"] is None else round(r["acc_m"]),
    }


def untied_devices_geojson(
    rows: list[dict[str, Any]], stale_s: float, offline_s: float, tz: ZoneInfo, lang: str = "en"
) -> dict[str, Any]:
    """Devices tied to no unit (rows of ``geo.queries.untied_devices``) as
    points; ``tie`` says "not on the roster" (kind 'unknown') or "no unit",
    ``presence`` is judged as for units, ``fix_time`` is local to ``tz``.
    ``more`` (a foreign member Leaflet ignores) counts the untied devices the
    query left out (its ``untied_n`` minus the rows)."""
    features = [
        _feature(
            r["lon"],
            r["lat"],
            _untied_props(r, presence(r["fix_age_s"], stale_s, offline_s), tz, lang),
        )
        for r in rows
    ]
    in_all = max((r.get("untied_n", 0) for r in rows), default=0)
    return {**_collection(features), "more": max(in_all - len(rows), 0)}


def untied_devices_key(collection: dict[str, Any]) -> str:
    """A short fingerprint of what the untied-devices layer draws: each
    device's id, fix time, presence and tie. The same key means the layer
    needs no redraw (the tooltip counts the fix age on by itself)."""
    marks = sorted(
        (p["id"], p["fix_at"], p["presence"], p["on_roster"])
        for p in (f["properties"] for f in collection["features"])
    )
    shown = repr((marks, collection.get("more", 0)))  # a count left out changes the legend
    return hashlib.sha1(shown.encode(), usedforsecurity=False).hexdigest()[:16]
