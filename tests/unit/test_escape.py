"""Escape-route cameras on a hand-made graph with hand-placed cameras: the
times are worked out by hand below, from the costs and the geometry."""

from __future__ import annotations

import math

import pytest

from geo.earth import LocalProjection
from geo.escape import Camera, EscapeCamera, escape_cameras, foot_edges, fov_intervals
from geo.routing import RoadGraph, Router

PLANE = LocalProjection(24.95, 60.17)
# A cross of 100 m arms around node 2, in metres east/north on PLANE:
#          4
#          |
#     1 -- 2 -- 3
#          |
#          5
XY = {1: (-100.0, 0.0), 2: (0.0, 0.0), 3: (100.0, 0.0), 4: (0.0, 100.0), 5: (0.0, -100.0)}
NODES = {n: PLANE.lonlat(*xy) for n, xy in XY.items()}
# Car seconds: 1-2 10 s each way; 2-3 one way 3 -> 2 only; 2-4 20 s; 2-5 a slow 100 s.
CAR = RoadGraph(
    [
        (1, 2, 10.0, 10.0, 100.0),
        (2, 3, -1.0, 10.0, 100.0),
        (2, 4, 20.0, 20.0, 100.0),
        (2, 5, 100.0, 100.0, 100.0),
    ]
)
# On foot at 10 km/h every 100 m arm takes 36 s, both ways.
FOOT = RoadGraph(foot_edges([(1, 2, 100.0), (2, 3, 100.0), (2, 4, 100.0), (2, 5, 100.0)]))
SPOT = PLANE.lonlat(-50.0, 0.0)  # halfway along 1-2: 5 s to node 2 by car, 18 s on foot


def camera(cid: str, x: float, y: float, bearing: float, fov: float, range_m: float) -> Camera:
    return Camera(cid, *PLANE.lonlat(x, y), bearing, fov, range_m)


CAMERAS = [
    # Looks south at 2-3 from 20 m north: sees x in [30, 70] (45° each side).
    # Car: 2 -> 3 is closed. Foot: 18 s + 30 m at 10 km/h (10.8 s) = 28.8 s.
    camera("A", 50.0, 20.0, 180.0, 90.0, 50.0),
    # Looks north at the spot itself from 10 m south: 0 s either way.
    camera("B", -50.0, -10.0, 0.0, 90.0, 30.0),
    # Looks west at 2-4 from 20 m east: sees y from 60 - 20 tan 30° = 48.45 m.
    # Car: 5 s + 0.4845 x 20 s; foot: 18 s + 0.4845 x 36 s.
    camera("C", 20.0, 60.0, 270.0, 60.0, 40.0),
    # Looks west at 2-5 from 10 m east, 80 m south: sees y in [-90, -70].
    # Car: 5 s + 0.7 x 100 s = 75 s; foot: 18 s + 0.7 x 36 s = 43.2 s.
    camera("E", 10.0, -80.0, 270.0, 90.0, 30.0),
    # Looks away from every road.
    camera("G", -50.0, 10.0, 0.0, 90.0, 5.0),
]


def test_cameras_along_the_escape_routes_with_their_hand_worked_times() -> None:
    car, foot = Router(CAR, NODES), Router(FOOT, NODES)
    c_share = (60.0 - 20.0 * math.tan(math.radians(30.0))) / 100.0
    rows = escape_cameras(car, foot, *SPOT, CAMERAS)
    assert [r.camera_id for r in rows] == ["B", "C", "A", "E"]
    expected = {
        "B": (0.0, 0.0),
        "C": (5.0 + c_share * 20.0, 18.0 + c_share * 36.0),
        "A": (None, 28.8),
        "E": (75.0, 43.2),
    }
    for row in rows:
        car_s, foot_s = expected[row.camera_id]
        assert row.car_s == (None if car_s is None else pytest.approx(car_s, abs=1e-9))
        assert row.foot_s == pytest.approx(foot_s, abs=1e-9)
    assert [r.band_s for r in rows] == [60.0, 60.0, 60.0, 60.0]


def test_the_horizon_leaves_out_cameras_reached_later() -> None:
    car, foot = Router(CAR, NODES), Router(FOOT, NODES)
    rows = escape_cameras(car, foot, *SPOT, CAMERAS, horizon_s=20.0)
    assert [(r.camera_id, r.foot_s) for r in rows] == [("B", 0.0), ("C", None)]


def test_bands_are_the_first_whole_minutes_holding_the_earlier_time() -> None:
    assert EscapeCamera("x", 61.0, None).band_s == 120.0
    assert EscapeCamera("x", 200.0, 179.0).band_s == 180.0
    assert EscapeCamera("x", None, 180.5).band_s == math.inf


def test_field_of_view_wider_than_a_half_turn_sees_two_stretches() -> None:
    # 270° looking north from the origin: the segment y = -10 from x = -50 to
    # 50 is seen except where it lies within 45° of due south (|x| < 10).
    cam = Camera("W", 0.0, 0.0, 0.0, 270.0, 100.0)
    got = fov_intervals((0.0, 0.0), cam, (-50.0, -10.0), (50.0, -10.0))
    assert got == [(0.0, pytest.approx(0.4)), (pytest.approx(0.6), 1.0)]
    assert fov_intervals((0.0, 0.0), cam, (0.0, 0.0), (0.0, 0.0)) == []
