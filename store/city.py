"""The city as stored: the road graph, the drawn basemap and the station's
furniture (station, beats, cameras, roster units and their devices).

Writers take rows already built (:mod:`geo.city` builds them from a road
network, basemap areas and furniture files); geometries are WGS84 (SRID 4326),
given as EWKT, WKT or lon/lat degrees as each statement says."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import psycopg
from psycopg.rows import dict_row

from store import statements

_sql = statements.loader("city")


def _copy(conn: psycopg.Connection, statement: str, rows: Iterable[Sequence[Any]]) -> int:
    n = 0
    with conn.cursor().copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
            n += 1
    return n


def truncate_roads(conn: psycopg.Connection) -> None:
    """Empty the road graph (edges and nodes, ids restarted)."""
    conn.execute(_sql("truncate_roads"))


def copy_road_nodes(conn: psycopg.Connection, rows: Iterable[tuple[int, str]]) -> int:
    """COPY (node id, EWKT point) rows into ``road_nodes``; returns the count."""
    return _copy(conn, _sql("copy_road_nodes"), rows)


def copy_road_edges(conn: psycopg.Connection, rows: Iterable[Sequence[Any]]) -> int:
    """COPY :func:`geo.city.road_edge_rows` rows (lengths m, speeds km/h,
    costs s, EWKT line) into ``road_edges``; returns the count."""
    return _copy(conn, _sql("copy_road_edges"), rows)


def truncate_basemap(conn: psycopg.Connection) -> None:
    """Empty the drawn basemap (water areas and buildings)."""
    conn.execute(_sql("truncate_basemap"))


def copy_water_areas(conn: psycopg.Connection, rows: Iterable[tuple[Any, ...]]) -> int:
    """COPY (osm id, kind, name, EWKT) rows into ``water_areas``; returns the count."""
    return _copy(conn, _sql("copy_water_areas"), rows)


def copy_buildings(conn: psycopg.Connection, rows: Iterable[tuple[Any, ...]]) -> int:
    """COPY (osm id, name, EWKT) rows into ``buildings``; returns the count."""
    return _copy(conn, _sql("copy_buildings"), rows)


def delete_stations(conn: psycopg.Connection) -> None:
    """Remove every station (a reload replaces it)."""
    conn.execute(_sql("delete_stations"))


def replace_station(
    conn: psycopg.Connection, station_id: str, name: str, phone: str, lon: float, lat: float
) -> None:
    """Insert the station at ``lon``/``lat`` (degrees) after :func:`delete_stations`:
    a DELETE in a CTE is not visible to the INSERT beside it, so one statement
    reloading the same station id violated the key."""
    conn.execute(_sql("replace_station"), (station_id, name, phone, lon, lat))


def delete_cameras(conn: psycopg.Connection) -> None:
    """Remove every camera (a reload replaces them)."""
    conn.execute(_sql("delete_cameras"))


def insert_camera(conn: psycopg.Connection, rows: Iterable[tuple[Any, ...]]) -> None:
    """Insert cameras: (id, name, bearing_deg, fov_deg, range_m, stream_url, lon, lat)."""
    with conn.cursor() as cur:
        cur.executemany(_sql("insert_camera"), list(rows))


def upsert_beat(conn: psycopg.Connection, rows: Iterable[tuple[str, str, str]]) -> None:
    """Insert or update beats: (id, name, WKT polygon or multipolygon)."""
    with conn.cursor() as cur:
        cur.executemany(_sql("upsert_beat"), list(rows))


def delete_unused_beats(conn: psycopg.Connection, keep_ids: Sequence[str]) -> None:
    """Remove beats not in ``keep_ids`` that no unit has as its home beat."""
    conn.execute(_sql("delete_unused_beats"), {"keep_ids": list(keep_ids)})


def upsert_unit(conn: psycopg.Connection, rows: Iterable[tuple[Any, ...]]) -> None:
    """Insert or update roster units: (id, call_sign, kind, home_beat,
    talkgroup, phone, radio_issi); live state and history are kept."""
    with conn.cursor() as cur:
        cur.executemany(_sql("upsert_unit"), list(rows))


def upsert_device(conn: psycopg.Connection, rows: Iterable[tuple[str, str, str, str]]) -> None:
    """Insert or update devices: (id, unit_id, kind, format)."""
    with conn.cursor() as cur:
        cur.executemany(_sql("upsert_device"), list(rows))


def _rows(conn: psycopg.Connection, query: str, params: Any = None) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchall()


def roads_geojson(conn: psycopg.Connection) -> dict[str, Any]:
    """All road edges as a GeoJSON FeatureCollection with ``highway`` and ``name``."""
    row = conn.execute(_sql("roads_geojson")).fetchone()
    return row[0] if row else {"type": "FeatureCollection", "features": []}


def water_geojson(conn: psycopg.Connection) -> dict[str, Any]:
    """Water areas as a FeatureCollection of (Multi)Polygons with ``kind`` and
    ``name``, largest first; empty where the city's extract has none."""
    row = conn.execute(_sql("water_geojson")).fetchone()
    return row[0] if row else {"type": "FeatureCollection", "features": []}


def buildings_geojson(conn: psycopg.Connection, tolerance_deg: float = 5e-6) -> dict[str, Any]:
    """Building outlines as a FeatureCollection with no properties, simplified
    by ``tolerance_deg`` degrees (topology kept); empty where there are none."""
    row = conn.execute(_sql("buildings_geojson"), {"tolerance_deg": tolerance_deg}).fetchone()
    return row[0] if row else {"type": "FeatureCollection", "features": []}


def beats_geojson(conn: psycopg.Connection) -> dict[str, Any]:
    """Beats as a FeatureCollection (``id``, ``name``)."""
    row = conn.execute(_sql("beats_geojson")).fetchone()
    return row[0] if row else {"type": "FeatureCollection", "features": []}


def stations(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Stations with ``lon``/``lat`` in WGS84 degrees."""
    return _rows(conn, _sql("stations"))


def city_extent(conn: psycopg.Connection) -> tuple[float, float, float, float] | None:
    """(min_lon, min_lat, max_lon, max_lat) of the road network; None when empty."""
    row = conn.execute(_sql("city_extent")).fetchone()
    return None if row is None or row[0] is None else (row[0], row[1], row[2], row[3])


def car_graph(conn: psycopg.Connection) -> list[tuple[int, int, float, float, float]]:
    """Car edges as (source, target, cost_s, reverse_cost_s, length_m); -1 cost = closed."""
    return conn.execute(_sql("car_graph")).fetchall()


def foot_graph(conn: psycopg.Connection) -> list[tuple[int, int, float]]:
    """Foot edges as (source, target, length_m), both directions walkable."""
    return conn.execute(_sql("foot_graph")).fetchall()


def node_positions(conn: psycopg.Connection) -> dict[int, tuple[float, float]]:
    """Road node id -> (lon, lat)."""
    return {int(i): (x, y) for i, x, y in conn.execute(_sql("node_positions"))}


def roster(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Units with their devices: ``gps_device``/``gps_format``, ``radio_device``,
    ``phone_device`` (None where absent), and the home beat's polygon as WKT."""
    return _rows(conn, _sql("roster"))
