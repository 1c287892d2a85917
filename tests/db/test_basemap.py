"""Water and buildings of the drawn basemap: loaded from the city's extract by
load-city, empty for an extract without them, and served by the dashboard to
those who may see a map (real database, Flask test client)."""

from __future__ import annotations

from pathlib import Path

import pyrosm

from dashboard.basemap import BUILDINGS_URL, WATER_URL
from geo.osm import BasemapAreas, read_basemap
from store import city as city_store
from usecases import access
from usecases.city import load_basemap


def counts(conn) -> tuple[int, int]:
    row = conn.execute(
        "SELECT (SELECT count(*) FROM water_areas), (SELECT count(*) FROM buildings)"
    )
    return row.fetchone()


def test_sample_city_has_its_water_and_buildings(conn):
    # Measured with pyrosm 0.25.0: 14 water areas and 483 buildings (of 486
    # tagged; three are ways the extract leaves open). Lower bounds, so that a
    # pyrosm that recovers more does not fail this.
    water, buildings = counts(conn)
    assert water >= 12 and buildings >= 450
    kinds = dict(conn.execute("SELECT kind, count(*) FROM water_areas GROUP BY kind").fetchall())
    assert set(kinds) <= {"water", "riverbank", "reservoir", "basin"} and kinds["water"] >= 5
    (bay,) = conn.execute("SELECT kind FROM water_areas WHERE name = 'Töölönlahti'").fetchone()
    assert bay == "water"
    invalid = conn.execute("""
        SELECT (SELECT count(*) FROM water_areas WHERE NOT ST_IsValid(geom) OR ST_Area(geom) = 0),
               (SELECT count(*) FROM buildings WHERE NOT ST_IsValid(geom) OR ST_Area(geom) = 0)
    """).fetchone()
    assert invalid == (0, 0)
    # The buildings stand where the roads run (centre of Helsinki, not at 0,0).
    (outside,) = conn.execute("""
        SELECT count(*) FROM buildings
        WHERE NOT ST_Intersects(geom, (
            SELECT ST_SetSRID(ST_Expand(ST_Extent(geom), 0.005)::geometry, 4326) FROM road_edges))
    """).fetchone()
    assert outside == 0


def test_extract_without_water_loads_and_empty_areas_empty_the_tables(conn):
    # pyrosm's Kotka test extract has buildings but no water area.
    kotka = read_basemap(Path(pyrosm.get_data("test_pbf")))
    assert kotka.water == [] and len(kotka.buildings) >= 2000
    assert load_basemap(conn, kotka) == (0, len(kotka.buildings))
    assert city_store.water_geojson(conn) == {"type": "FeatureCollection", "features": []}
    assert load_basemap(conn, BasemapAreas([], [])) == (0, 0)
    assert counts(conn) == (0, 0)
    assert city_store.buildings_geojson(conn) == {"type": "FeatureCollection", "features": []}


def test_geojson_for_drawing_is_whole_and_small(conn):
    import json

    water = city_store.water_geojson(conn)
    buildings = city_store.buildings_geojson(conn)
    assert len(water["features"]) == counts(conn)[0]
    assert len(buildings["features"]) == counts(conn)[1]
    types = {f["geometry"]["type"] for f in water["features"] + buildings["features"]}
    assert types <= {"Polygon", "MultiPolygon"}
    areas = [f["properties"] for f in water["features"]]
    assert areas[0]["name"] == "Töölönlahti"  # the largest first, under the ponds
    # Simplified for drawing: smaller than the stored outlines, far under 2 MB.
    size = len(json.dumps(buildings, separators=(",", ":")))
    full = len(json.dumps(city_store.buildings_geojson(conn, 0.0), separators=(",", ":")))
    assert size < 0.9 * full and size < 400_000


def test_served_to_map_viewers_only_and_revalidated_by_etag(app, conn):
    stranger = app.server.test_client()
    assert stranger.get(WATER_URL).status_code == 403
    assert stranger.get(BUILDINGS_URL).status_code == 403
    token = access.add_wall_token(conn, "screen 1", "test")
    conn.commit()
    wall = app.server.test_client()
    wall.set_cookie("dm_wall", token)
    first = wall.get(BUILDINGS_URL)
    assert first.status_code == 200 and first.mimetype == "application/json"
    assert len(first.get_json()["features"]) == counts(conn)[1]
    again = wall.get(BUILDINGS_URL, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    assert wall.get(WATER_URL).get_json()["features"][0]["properties"]["kind"] == "water"
