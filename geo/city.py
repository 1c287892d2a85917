"""Loading a city into PostGIS: roads, water and buildings from an OSM extract,
and the station's furniture (station, beats, cameras, roster) from a folder of files.

Furniture files (as in ``data/helsinki``): ``station.geojson``, ``beats.geojson``,
``cameras.geojson`` (FeatureCollections, WGS84) and ``roster.csv``.
"""

from __future__ import annotations

import csv
import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from shapely.geometry import mapping, shape

from geo import queries
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


def load_roads(conn: psycopg.Connection, net: RoadNetwork) -> int:
    """Replace the road graph with ``net``; returns the number of edges loaded."""
    conn.execute(queries.sql("truncate_roads"))
    with conn.cursor().copy(queries.sql("copy_road_nodes")) as copy:
        for node_id, (x, y) in net.nodes.items():
            copy.write_row((node_id, f"SRID=4326;POINT({x} {y})"))
    with conn.cursor().copy(queries.sql("copy_road_edges")) as copy:
        for e in net.edges:
            copy.write_row(
                (
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
            )
    return len(net.edges)


def load_basemap(conn: psycopg.Connection, areas: BasemapAreas) -> tuple[int, int]:
    """Replace the drawn basemap's water areas and buildings with ``areas``;
    returns (water areas, buildings) loaded. Empty lists empty the tables."""
    conn.execute(queries.sql("truncate_basemap"))
    with conn.cursor().copy(queries.sql("copy_water_areas")) as copy:
        for a in areas.water:
            copy.write_row((a.osm_id, a.kind, a.name, f"SRID=4326;{a.wkt}"))
    with conn.cursor().copy(queries.sql("copy_buildings")) as copy:
        for a in areas.buildings:
            copy.write_row((a.osm_id, a.name, f"SRID=4326;{a.wkt}"))
    return len(areas.water), len(areas.buildings)


def _device_rows(u: RosterUnit) -> list[tuple[str, str, str, str]]:
    rows = [(u.radio_issi, u.id, "radio", "lip"), (u.phone_device, u.id, "phone", "owntracks")]
    if u.gps_device:
        rows.append((u.gps_device, u.id, "gps", u.gps_format))
    return rows


def load_furniture(conn: psycopg.Connection, furniture: Furniture) -> None:
    """Replace station and cameras; upsert beats, units and devices (live state and
    history of units that stay on the roster are kept)."""
    st = furniture.station
    # Two statements: a DELETE in a CTE is not visible to the INSERT beside it,
    # so reloading the same station id violated the key.
    conn.execute("DELETE FROM stations")
    conn.execute(queries.sql("replace_station"), (st.id, st.name, st.phone, st.lon, st.lat))
    conn.execute("DELETE FROM cameras")
    with conn.cursor() as cur:
        cur.executemany(
            queries.sql("upsert_beat"), [(b.id, b.name, b.geom.wkt) for b in furniture.beats]
        )
        cur.executemany(
            queries.sql("insert_camera"),
            [
                (c.id, c.name, c.bearing_deg, c.fov_deg, c.range_m, c.stream_url, c.lon, c.lat)
                for c in furniture.cameras
            ],
        )
        cur.executemany(
            queries.sql("upsert_unit"),
            [
                (u.id, u.call_sign, u.kind, u.home_beat, u.talkgroup, u.phone, u.radio_issi)
                for u in furniture.roster
            ],
        )
        cur.executemany(
            queries.sql("upsert_device"), [row for u in furniture.roster for row in _device_rows(u)]
        )
    conn.execute(
        "DELETE FROM beats WHERE id <> ALL(%s) AND id NOT IN "
        "(SELECT home_beat FROM units WHERE home_beat IS NOT NULL)",
        ([b.id for b in furniture.beats],),
    )
