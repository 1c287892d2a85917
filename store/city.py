"""The city as stored: the road graph, the drawn basemap and the station's
furniture (station, beats, cameras, roster units and their devices).

Writers take rows already built (:mod:`geo.city` builds them from a road
network, basemap areas and furniture files); geometries are WGS84 (SRID 4326),
given as EWKT, WKT or lon/lat degrees as each statement says."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import psycopg

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
