"""The sample city as loaded: real roads without fake segments, and the furniture."""


def test_sample_city_counts(conn):
    counts = conn.execute("""
        SELECT (SELECT count(*) FROM road_edges), (SELECT count(*) FROM road_edges WHERE car),
               (SELECT count(*) FROM stations), (SELECT count(*) FROM beats),
               (SELECT count(*) FROM cameras), (SELECT count(*) FROM units),
               (SELECT count(DISTINCT kind) FROM units)""").fetchone()
    edges, car, stations, beats, cameras, units, kinds = counts
    assert edges > 5000 and car > 1000
    assert (stations, kinds) == (1, 3)
    assert 6 <= beats <= 10 and 30 <= cameras <= 50 and 35 <= units <= 45


def test_no_fake_long_straight_roads(conn):
    # The extract references missing nodes; a naive loader joins the gaps with
    # long straight lines. Node-to-node segments in a city centre are short.
    (longest,) = conn.execute("SELECT max(ST_Length(geom::geography)) FROM road_edges").fetchone()
    assert longest < 400
    (bad,) = conn.execute(
        "SELECT count(*) FROM road_edges WHERE abs(ST_Length(geom::geography) - length_m) > 1"
    ).fetchone()
    assert bad == 0


def test_beats_cover_every_car_road_node(conn):
    (uncovered,) = conn.execute("""
        SELECT count(*) FROM road_nodes n
        WHERE n.id IN (SELECT source FROM road_edges WHERE car)
          AND NOT EXISTS (SELECT 1 FROM beats b WHERE ST_Covers(b.geom, n.geom))""").fetchone()
    assert uncovered == 0


def test_every_unit_is_reachable_and_has_its_devices(conn):
    rows = conn.execute("""
        SELECT u.kind, count(*) FILTER (WHERE d.kind = 'gps'),
               count(*) FILTER (WHERE d.kind = 'radio'), count(*) FILTER (WHERE d.kind = 'phone'),
               bool_and(u.talkgroup <> '' AND u.phone <> '')
        FROM units u JOIN devices d ON d.unit_id = u.id
        GROUP BY u.kind ORDER BY u.kind""").fetchall()
    assert rows == [
        ("car", 16, 16, 16, True),
        ("foot", 0, 16, 16, True),
        ("motorbike", 8, 8, 8, True),
    ]


def test_one_way_streets_are_closed_against_traffic(conn):
    (open_wrong_way,) = conn.execute(
        "SELECT count(*) FROM road_edges WHERE oneway AND reverse_cost_s >= 0"
    ).fetchone()
    (oneway,) = conn.execute("SELECT count(*) FROM road_edges WHERE oneway").fetchone()
    assert oneway > 100 and open_wrong_way == 0


def test_another_extract_loads_with_generated_furniture(conn, db_url):
    """A station loads its own jurisdiction: here the Kotka test extract pyrosm ships."""
    from pathlib import Path

    import pyrosm

    from dispatchmap.cli import load_city

    summary = load_city(db_url, Path(pyrosm.get_data("test_pbf")), None, 7)
    assert summary.startswith("loaded 1664 road edges from test.osm.pbf, 8 beats, 40 cameras")
    (station,) = conn.execute("SELECT name FROM stations").fetchone()
    assert station == "test.osm station"
    # The roads replaced Helsinki's: every camera and the station lie on the new network.
    (off,) = conn.execute("""
        SELECT count(*) FROM cameras c
        WHERE NOT EXISTS (SELECT 1 FROM road_nodes n WHERE ST_DWithin(n.geom, c.geom, 1e-7))
    """).fetchone()
    assert off == 0
