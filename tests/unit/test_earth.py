"""geo.earth against known distances and an independent geodesic library."""

import math

import numpy as np
import pytest
from pyproj import Geod

from geo.earth import (
    EARTH_RADIUS_M,
    M_PER_DEG,
    LocalProjection,
    bearing_deg,
    destination,
    distance_m,
    distances_m,
)

SPHERE = Geod(a=EARTH_RADIUS_M, f=0.0)  # PROJ's geodesics on our sphere
WGS84 = Geod(ellps="WGS84")
HELSINKI, TALLINN = (24.9384, 60.1699), (24.7536, 59.4370)


def test_a_degree_of_latitude_and_a_quarter_meridian():
    assert round(M_PER_DEG, 2) == 111_195.08  # pi / 180 x R
    assert distance_m(24.0, 60.0, 24.0, 61.0) == pytest.approx(M_PER_DEG, rel=1e-12)
    assert distance_m(0.0, 0.0, 0.0, 90.0) == pytest.approx(10_007_557.2, abs=0.1)
    assert distance_m(10.0, 0.0, 11.0, 0.0) == pytest.approx(M_PER_DEG, rel=1e-12)


def test_antipodes_give_half_the_circumference_not_nan():
    assert distance_m(0.0, 0.0, 180.0, 0.0) == pytest.approx(math.pi * EARTH_RADIUS_M)
    assert distances_m(0.0, 0.0, 180.0, 0.0) == pytest.approx(math.pi * EARTH_RADIUS_M)


def test_helsinki_to_tallinn_is_within_half_a_percent_of_the_ellipsoid():
    sphere = distance_m(*HELSINKI, *TALLINN)
    _, _, ellipsoid = WGS84.inv(*HELSINKI, *TALLINN)
    assert 82_000 < ellipsoid < 82_600
    assert sphere == pytest.approx(ellipsoid, rel=5e-3)


def test_distance_and_bearing_agree_with_proj_on_the_same_sphere():
    rng = np.random.default_rng(7)
    lon1, lon2 = rng.uniform(-180, 180, (2, 200))
    lat1, lat2 = rng.uniform(-80, 80, (2, 200))
    azimuth, _, expected = SPHERE.inv(lon1, lat1, lon2, lat2)
    np.testing.assert_allclose(distances_m(lon1, lat1, lon2, lat2), expected, rtol=1e-9)
    for i in range(200):
        assert distance_m(lon1[i], lat1[i], lon2[i], lat2[i]) == pytest.approx(
            expected[i], rel=1e-9
        )
        assert bearing_deg(lon1[i], lat1[i], lon2[i], lat2[i]) == pytest.approx(
            azimuth[i] % 360.0, abs=1e-7
        )


def test_distances_broadcast_one_point_against_many():
    lons = np.array([24.94, 24.95, 24.96])
    lats = np.array([60.17, 60.18, 60.16])
    got = distances_m(lons, lats, 24.94, 60.17)
    assert got.shape == (3,)
    assert got[0] == 0.0
    assert list(got[1:]) == pytest.approx(
        [distance_m(x, y, 24.94, 60.17) for x, y in [(24.95, 60.18), (24.96, 60.16)]], rel=1e-12
    )


@pytest.mark.parametrize(
    ("to", "expected"),
    [((24.0, 61.0), 0.0), ((25.0, 60.0), 89.567), ((24.0, 59.0), 180.0), ((23.0, 60.0), 270.433)],
)
def test_compass_bearings(to, expected):
    assert bearing_deg(24.0, 60.0, *to) == pytest.approx(expected, abs=1e-3)


@pytest.mark.parametrize("bearing", [0.0, 45.0, 90.0, 200.0, 359.0])
def test_destination_goes_the_right_distance_and_way(bearing):
    lon, lat = destination(*HELSINKI, bearing, 100.0)
    assert distance_m(*HELSINKI, lon, lat) == pytest.approx(100.0, abs=1e-6)
    assert bearing_deg(*HELSINKI, lon, lat) == pytest.approx(bearing, abs=1e-4)
    far = destination(*HELSINKI, bearing, 50_000.0)
    assert far == pytest.approx(SPHERE.fwd(*HELSINKI, bearing, 50_000.0)[:2], abs=1e-9)


def test_projection_is_equirectangular_scaled_by_cos_lat_and_inverts():
    proj = LocalProjection(24.9, 60.0)
    x, y = proj.xy(24.91, 60.01)
    assert x == pytest.approx(0.01 * 0.5 * M_PER_DEG, rel=1e-12)
    assert y == pytest.approx(1111.95, abs=0.01)
    assert proj.lonlat(x, y) == pytest.approx((24.91, 60.01), abs=1e-12)
    xs, ys = proj.to_xy(np.array([24.91, 24.9]), np.array([60.01, 60.0]))
    assert list(xs) == pytest.approx([x, 0.0], rel=1e-12)
    assert list(ys) == pytest.approx([y, 0.0], rel=1e-12)


def test_projected_distances_stay_within_a_fifth_of_a_percent_across_a_district():
    proj = LocalProjection.around([24.90, 24.98], [60.15, 60.19])
    assert (proj.lon0, proj.lat0) == pytest.approx((24.94, 60.17))
    rng = np.random.default_rng(3)
    lons, lats = rng.uniform(24.90, 24.98, 100), rng.uniform(60.15, 60.19, 100)
    xs, ys = proj.to_xy(lons, lats)
    flat = np.hypot(xs[1:] - xs[:-1], ys[1:] - ys[:-1])
    round_ = distances_m(lons[1:], lats[1:], lons[:-1], lats[:-1])
    np.testing.assert_allclose(flat, round_, rtol=2e-3)
