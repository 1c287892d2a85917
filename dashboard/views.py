"""Rows from geo.queries -> what the page draws (GeoJSON, counters). Pure."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from geo.cameras import fov_cone

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
