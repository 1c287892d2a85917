"""GCJ-02: the forward formula against published pairs, the iterative inverse to
well under a metre, no offset outside China."""

from __future__ import annotations

import pytest

from geo.earth import distance_m
from geo.gcj02 import gcj02_to_wgs84, out_of_china, wgs84_to_gcj02

# wandergis/coordtransform README (https://github.com/wandergis/coordtransform):
# wgs84togcj02(116.404, 39.915) -> [116.41024449916938, 39.91640428150164]
# (lon first there; the same pair is quoted by its Python and Java ports).
WANDERGIS_WGS = (39.915, 116.404)
WANDERGIS_GCJ = (39.91640428150164, 116.41024449916938)

# Station-like places across China's extent (WGS84), for the round trip.
CITIES = [
    (39.9042, 116.4074),  # Beijing
    (31.2304, 121.4737),  # Shanghai
    (22.5431, 114.0579),  # Shenzhen
    (30.5728, 104.0668),  # Chengdu
    (43.8256, 87.6168),  # Urumqi
    (45.8038, 126.5350),  # Harbin
    (18.2528, 109.5119),  # Sanya
    (29.6520, 91.1721),  # Lhasa
]


def _apart_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Metres between two (lat, lon) points (distance_m takes lon first)."""
    return distance_m(a[1], a[0], b[1], b[0])


def test_forward_reproduces_the_published_pair():
    assert wgs84_to_gcj02(*WANDERGIS_WGS) == pytest.approx(WANDERGIS_GCJ, abs=1e-12)


def test_inverse_of_the_published_pair_is_within_a_millimetre():
    back = gcj02_to_wgs84(*WANDERGIS_GCJ)
    assert _apart_m(back, WANDERGIS_WGS) < 0.001


@pytest.mark.parametrize(("lat", "lon"), CITIES)
def test_round_trip_well_under_a_metre(lat, lon):
    gcj = wgs84_to_gcj02(lat, lon)
    offset_m = _apart_m((lat, lon), gcj)
    assert 50 < offset_m < 1000  # the offset is real: tens to hundreds of metres
    assert _apart_m(gcj02_to_wgs84(*gcj), (lat, lon)) < 0.01


@pytest.mark.parametrize(
    ("lat", "lon"), [(60.1699, 24.9384), (51.5007, -0.1246), (-33.8688, 151.2093), (0.5, 100.0)]
)
def test_outside_china_nothing_moves(lat, lon):
    assert out_of_china(lat, lon)
    assert wgs84_to_gcj02(lat, lon) == (lat, lon)
    assert gcj02_to_wgs84(lat, lon) == (lat, lon)
