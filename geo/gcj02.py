"""GCJ-02, the offset coordinates of Chinese consumer map SDKs (AMap, Tencent).

A device whose app reports positions from such an SDK gives GCJ-02, not WGS84:
tens to hundreds of metres off. The forward transform (WGS84 -> GCJ-02) is the
public formula (as in wandergis/coordtransform and googollee/eviltransform); it
has no closed inverse, so :func:`gcj02_to_wgs84` iterates the forward transform
until it reproduces the given point to ``tolerance_deg`` (default 1e-9 degrees,
about 0.1 mm). Outside China (the formula's own rectangle, :func:`out_of_china`)
no offset applies and both functions return their input unchanged.

All angles in degrees, latitude first.
"""

from __future__ import annotations

import math

# Krasovsky 1940 ellipsoid, which the formula uses.
_A_M = 6378245.0
_EE = 0.00669342162296594323

_MAX_ITERATIONS = 30


def out_of_china(lat: float, lon: float) -> bool:
    """True outside the rectangle 72.004..137.8347 E, 0.8293..55.8271 N (the
    formula's own bound; neighbours inside it are offset too, as SDKs do)."""
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    """WGS84 (lat, lon) -> GCJ-02 (lat, lon); unchanged outside China."""
    if out_of_china(lat, lon):
        return lat, lon
    dlat_deg, dlon_deg = _offset_deg(lat, lon)
    return lat + dlat_deg, lon + dlon_deg


def gcj02_to_wgs84(lat: float, lon: float, tolerance_deg: float = 1e-9) -> tuple[float, float]:
    """GCJ-02 (lat, lon) -> WGS84 (lat, lon) by fixed-point iteration: the
    result's forward transform lies within ``tolerance_deg`` of the input
    (the offset changes by well under 1e-3 per degree, so each step gains
    about three digits: four steps in practice). Unchanged outside China."""
    if out_of_china(lat, lon):
        return lat, lon
    w_lat, w_lon = lat, lon
    for _ in range(_MAX_ITERATIONS):
        g_lat, g_lon = wgs84_to_gcj02(w_lat, w_lon)
        e_lat, e_lon = g_lat - lat, g_lon - lon
        if abs(e_lat) < tolerance_deg and abs(e_lon) < tolerance_deg:
            break
        w_lat, w_lon = w_lat - e_lat, w_lon - e_lon
    return w_lat, w_lon


def _offset_deg(lat: float, lon: float) -> tuple[float, float]:
    """The GCJ-02 offset (dlat, dlon) in degrees at a WGS84 point."""
    x, y = lon - 105.0, lat - 35.0
    dlat = _lat_term(x, y)
    dlon = _lon_term(x, y)
    rad_lat = math.radians(lat)
    magic = 1 - _EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A_M * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlon = (dlon * 180.0) / (_A_M / sqrt_magic * math.cos(rad_lat) * math.pi)
    return dlat, dlon


def _lat_term(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += _waves(x)
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _lon_term(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += _waves(x)
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def _waves(x: float) -> float:
    return (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
