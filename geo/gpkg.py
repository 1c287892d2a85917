"""A replay window as a GeoPackage a GIS analyst opens in QGIS: layers
``tracks`` (a LineString per unit), ``positions`` (a Point per stored fix),
``incidents`` (a Point per incident) and ``events`` (a Point where the event
has a place, no geometry otherwise). EPSG:4326 (WGS84 degrees); times are ISO
8601 text in UTC, as in the GeoJSON and CSV exports.

Written with geopandas/pyogrio, layer by layer and chunk by chunk (each
chunk is appended), so memory stays bounded by a chunk. A layer with nothing
in the window is left out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
from shapely.geometry import LineString, Point

from geo.replay import Track

CRS = "EPSG:4326"
LAYERS = ("tracks", "positions", "incidents", "events")


class GpkgWriter:
    """Appends a window's parts to the GeoPackage at ``path`` (created new)."""

    def __init__(self, path: Path, call_signs: Mapping[str, str]) -> None:
        path.unlink(missing_ok=True)
        self.path, self.call_signs = path, call_signs
        self.written: dict[str, int] = dict.fromkeys(LAYERS, 0)

    def write(self, tracks: Mapping[str, Track], events: list[dict[str, Any]]) -> None:
        """Append the tracks (and their fixes) of one chunk, and ``events``."""
        self._append("tracks", [self._track_row(u, t) for u, t in sorted(tracks.items())])
        self._append(
            "positions",
            [self._fix_row(u, f) for u, t in sorted(tracks.items()) for f in t.fixes],
        )
        self._append("events", [_event_row(e) for e in events])

    def write_incidents(self, incidents: list[dict[str, Any]]) -> None:
        """Append the window's incidents (rows with ``lon``/``lat``)."""
        self._append("incidents", [_incident_row(i) for i in incidents])

    def _append(self, layer: str, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS)
        append = self.path.exists()
        frame.to_file(self.path, layer=layer, driver="GPKG", engine="pyogrio", append=append)
        self.written[layer] += len(rows)

    def _track_row(self, unit_id: str, track: Track) -> dict[str, Any]:
        points = [(f.lon, f.lat) for f in track.fixes]
        shape = LineString(points) if len(points) > 1 else Point(points[0])
        return {
            "unit_id": unit_id,
            "call_sign": self.call_signs.get(unit_id, unit_id),
            "first_at": track.fixes[0].fix_at.isoformat(),
            "last_at": track.fixes[-1].fix_at.isoformat(),
            "fixes": len(points),
            "times": json.dumps([f.fix_at.isoformat() for f in track.fixes]),
            "geometry": shape,
        }

    def _fix_row(self, unit_id: str, fix: Any) -> dict[str, Any]:
        return {
            "unit_id": unit_id,
            "call_sign": self.call_signs.get(unit_id, unit_id),
            "fix_at": fix.fix_at.isoformat(),
            "speed_kmh": fix.speed_kmh,
            "heading_deg": fix.heading_deg,
            "geometry": Point(fix.lon, fix.lat),
        }


def _event_row(e: dict[str, Any]) -> dict[str, Any]:
    where = None if e.get("lon") is None else Point(e["lon"], e["lat"])
    return {
        "at": e["at"].isoformat(),
        "kind": e.get("kind"),
        "actor": e.get("actor"),
        "unit_id": e.get("unit_id"),
        "incident_id": e.get("incident_id"),
        "order_id": e.get("order_id"),
        "data": json.dumps(e.get("data"), default=str, ensure_ascii=False),
        "geometry": where,
    }


def _incident_row(i: dict[str, Any]) -> dict[str, Any]:
    row = {k: _text(v) for k, v in i.items() if k not in ("lon", "lat")}
    return {**row, "geometry": Point(i["lon"], i["lat"])}


def _text(value: Any) -> Any:
    """Datetimes as ISO text, dicts/lists as JSON; numbers and text as they are."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, default=str, ensure_ascii=False)
    return value
