"""How OSM's one-way tags become car directions, and an edge drawn against
its one-way is turned round (a fake pyrosm row: no extract needed)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from shapely.geometry import LineString

from geo.osm import _edge, car_direction


@pytest.mark.parametrize(
    ("oneway", "junction", "highway", "expected"),
    [
        ("yes", None, "residential", 1),
        ("1", None, "residential", 1),
        ("-1", None, "residential", -1),
        ("reverse", None, "residential", -1),
        (None, None, "residential", 0),
        ("no", None, "residential", 0),
        (None, "roundabout", "primary", 1),  # implied by the roundabout
        (None, "circular", "tertiary", 1),
        ("no", "roundabout", "primary", 0),  # an explicit tag wins
        ("-1", "roundabout", "primary", -1),
        (None, None, "motorway", 1),
        (None, None, "motorway_link", 0),  # links are one-way only when tagged
    ],
)
def test_car_direction(oneway, junction, highway, expected):
    assert car_direction(oneway, junction, highway) == expected


def row(oneway, tags=None):
    return SimpleNamespace(
        id=7,
        u=1,
        v=2,
        highway="residential",
        oneway=oneway,
        tags=None if tags is None else json.dumps(tags),
        name="Kuja",
        length=100.0,
        maxspeed="30",
        geometry=LineString([(24.0, 60.0), (24.001, 60.0)]),
    )


KEY = {(7, 1, 2)}


def test_a_way_one_way_against_its_drawing_is_turned_round():
    edge = _edge(row("-1"), car=KEY, foot=KEY)
    assert (edge.source, edge.target) == (2, 1)
    assert edge.coords == ((24.001, 60.0), (24.0, 60.0))
    assert edge.oneway and edge.cost_s > 0 and edge.reverse_cost_s == -1.0


def test_a_roundabout_is_one_way_as_drawn_and_walking_is_not_bound():
    edge = _edge(row(None, {"junction": "roundabout"}), car=KEY, foot=KEY)
    assert (edge.source, edge.target) == (1, 2) and edge.oneway
    footway = _edge(row("-1"), car=set(), foot=KEY)  # not a car way: never one-way
    assert (footway.source, footway.target) == (1, 2) and not footway.oneway


def test_odd_tags_text_is_no_junction():
    for tags in ("not json", "[1, 2]"):
        odd = SimpleNamespace(**{**vars(row(None)), "tags": tags})
        assert not _edge(odd, car=KEY, foot=KEY).oneway
