"""A city's parts as files and as rows: the station's furniture (station,
beats, cameras, roster) read from and written to a folder of files, and the
rows :mod:`store.city` loads for roads, basemap and furniture. No database here
(:mod:`usecases.city` loads a city).

Furniture files (as in ``data/helsinki``): ``station.geojson``, ``beats.geojson``,
``cameras.geojson`` (FeatureCollections, WGS84) and ``roster.csv``.
"""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shapely.geometry import mapping, shape

from geo.osm import BasemapAreas, RoadNetwork
from geo.sample import Beat, Camera, RosterUnit, Station


@dataclass(frozen=True, slots=True)
class Furniture:
    station: Station
    beats: list[Beat]
    cameras: list[Camera]
    roster: list[RosterUnit]


def _collection(features: list[dict[str, Any]]) -> str:
    return (
        json.dumps(
            {"type": "FeatureCollection", "features": features}, indent=1, ensure_ascii=False
        )
        + "\n"
    )


def _point(lon: float, lat: float, props: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": props,
    }


def write_furniture(folder: Path, furniture: Furniture) -> None:
    """Write the four furniture files into ``folder`` (created if missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    st = furniture.station
    (folder / "station.geojson").write_text(
        _collection([_point(st.lon, st.lat, {"id": st.id, "name": st.name, "phone": st.phone})])
    )
    (folder / "beats.geojson").write_text(
        _collection(
            [
                {
                    "type": "Feature",
                    "geometry": mapping(b.geom),
                    "properties": {"id": b.id, "name": b.name},
                }
                for b in furniture.beats
            ]
        )
    )
    (folder / "cameras.geojson").write_text(
        _collection(
            [
                _point(
                    c.lon,
                    c.lat,
                    {k: v for k, v in dataclasses.asdict(c).items() if k not in ("lon", "lat")},
                )
                for c in furniture.cameras
            ]
        )
    )
    fields = [f.name for f in dataclasses.fields(RosterUnit)]
    with open(folder / "roster.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(dataclasses.asdict(u) for u in furniture.roster)


def _features(path: Path) -> list[dict[str, Any]]:
    return list(json.loads(path.read_text())["features"])


def read_furniture(folder: Path) -> Furniture:
    """Read the four furniture files; a missing or malformed file raises with its name."""
    (st,) = _features(folder / "station.geojson")
    lon, lat = st["geometry"]["coordinates"]
    station = Station(lon=lon, lat=lat, **st["properties"])
    beats = [
        Beat(f["properties"]["id"], f["properties"]["name"], shape(f["geometry"]))
        for f in _features(folder / "beats.geojson")
    ]
    cameras = [
        Camera(
            lon=f["geometry"]["coordinates"][0],
            lat=f["geometry"]["coordinates"][1],
            **f["properties"],
        )
        for f in _features(folder / "cameras.geojson")
    ]
    with open(folder / "roster.csv", newline="") as fh:
        roster = [RosterUnit(**row) for row in csv.DictReader(fh)]
    return Furniture(station, beats, cameras, roster)


def _ewkt_line(coords: tuple[tuple[float, float], ...]) -> str:
    return "SRID=4326;LINESTRING(" + ",".join(f"{x} {y}" for x, y in coords) + ")"


def road_node_rows(net: RoadNetwork) -> Iterator[tuple[int, str]]:
    """(node id, EWKT point) of every node of ``net``."""
    for node_id, (x, y) in net.nodes.items():
        yield node_id, f"SRID=4326;POINT({x} {y})"


def road_edge_rows(net: RoadNetwork) -> Iterator[tuple[Any, ...]]:
    """One row an edge of ``net``: osm id, source, target, highway, name,
    oneway, car, foot, length_m, speed_kmh, cost_s, reverse_cost_s, EWKT line."""
    for e in net.edges:
        yield (
            e.osm_id,
            e.source,
            e.target,
            e.highway,
            e.name,
            e.oneway,
            e.car,
            e.foot,
            e.length_m,
            e.speed_kmh,
            e.cost_s,
            e.reverse_cost_s,
            _ewkt_line(e.coords),
        )


def water_rows(areas: BasemapAreas) -> list[tuple[Any, ...]]:
    """(osm id, kind, name, EWKT) of every water area."""
    return [(a.osm_id, a.kind, a.name, f"SRID=4326;{a.wkt}") for a in areas.water]


def building_rows(areas: BasemapAreas) -> list[tuple[Any, ...]]:
    """(osm id, name, EWKT) of every building."""
    return [(a.osm_id, a.name, f"SRID=4326;{a.wkt}") for a in areas.buildings]


def camera_rows(furniture: Furniture) -> list[tuple[Any, ...]]:
    """(id, name, bearing_deg, fov_deg, range_m, stream_url, lon, lat) a camera."""
    return [
        (c.id, c.name, c.bearing_deg, c.fov_deg, c.range_m, c.stream_url, c.lon, c.lat)
        for c in furniture.cameras
    ]


def unit_rows(furniture: Furniture) -> list[tuple[Any, ...]]:
    """(id, call_sign, kind, home_beat, talkgroup, phone, radio_issi) a roster unit."""
    return [
        (u.id, u.call_sign, u.kind, u.home_beat, u.talkgroup, u.phone, u.radio_issi)
        for u in furniture.roster
    ]


def device_rows(furniture: Furniture) -> list[tuple[str, str, str, str]]:
    """(device id, unit id, kind, format) of every roster unit's devices: its
    radio (LIP), its phone (OwnTracks) and its vehicle tracker if it has one."""
    rows = []
    for u in furniture.roster:
        rows += [(u.radio_issi, u.id, "radio", "lip"), (u.phone_device, u.id, "phone", "owntracks")]
        if u.gps_device:
            rows.append((u.gps_device, u.id, "gps", u.gps_format))
    return rows


def gcj02_devices(furniture: Furniture) -> list[str]:
    """Vehicle trackers the roster marks as giving GCJ-02 (column ``gps_coords``).
    Raises ``ValueError`` for a value other than empty, ``wgs84`` or ``gcj02``."""
    bad = sorted({u.gps_coords for u in furniture.roster} - {"", "wgs84", "gcj02"})
    if bad:
        raise ValueError(f"roster gps_coords must be wgs84 or gcj02, not {bad}")
    return [u.gps_device for u in furniture.roster if u.gps_device and u.gps_coords == "gcj02"]
