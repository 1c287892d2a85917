"""Camera geometry: the field-of-view cone a camera sees. Pure functions."""

from __future__ import annotations

import math
from typing import Any

EARTH_RADIUS_M = 6_371_008.8


def offset(lon: float, lat: float, bearing_deg: float, distance_m: float) -> tuple[float, float]:
    """The point ``distance_m`` metres from (lon, lat) along ``bearing_deg``
    (compass degrees), on a sphere; accurate to centimetres at camera ranges."""
    phi1, lam1 = math.radians(lat), math.radians(lon)
    theta, delta = math.radians(bearing_deg), distance_m / EARTH_RADIUS_M
    phi2 = math.asin(
        math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta)
    )
    lam2 = lam1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi1),
        math.cos(delta) - math.sin(phi1) * math.sin(phi2),
    )
    return math.degrees(lam2), math.degrees(phi2)


def fov_cone(
    lon: float, lat: float, bearing_deg: float, fov_deg: float, range_m: float, steps: int = 12
) -> list[tuple[float, float]]:
    """Closed ring (lon, lat) of the sector a camera sees: apex at the camera,
    arc at ``range_m`` from ``bearing - fov/2`` to ``bearing + fov/2``."""
    start = bearing_deg - fov_deg / 2
    arc = [offset(lon, lat, start + fov_deg * i / steps, range_m) for i in range(steps + 1)]
    return [(lon, lat), *arc, (lon, lat)]


def covers(
    cam_lon: float,
    cam_lat: float,
    bearing_deg: float,
    fov_deg: float,
    range_m: float,
    lon: float,
    lat: float,
    distance_m: float,
) -> bool:
    """Whether (lon, lat), ``distance_m`` metres from the camera, lies inside
    its field of view: within range and within half the angle of its bearing."""
    if distance_m > range_m:
        return False
    if distance_m < 1.0:
        return True
    to_point = _bearing(cam_lon, cam_lat, lon, lat)
    off = abs((to_point - bearing_deg + 180.0) % 360.0 - 180.0)
    return off <= fov_deg / 2


def _bearing(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dlon = math.radians(lon2 - lon1)
    x = math.sin(dlon) * math.cos(phi2)
    y = math.cos(phi1) * math.sin(phi2) - math.sin(phi1) * math.cos(phi2) * math.cos(dlon)
    return math.degrees(math.atan2(x, y)) % 360.0


def rank_for(cameras: list[dict[str, Any]], lon: float, lat: float) -> list[dict[str, Any]]:
    """Cameras whose view covers (lon, lat) first (nearest first), then the
    nearest others. Each row needs ``lon``, ``lat``, ``bearing_deg``,
    ``fov_deg``, ``range_m`` and ``distance_m`` (to the point); ``covers`` is added."""
    for c in cameras:
        c["covers"] = covers(
            c["lon"],
            c["lat"],
            c["bearing_deg"],
            c["fov_deg"],
            c["range_m"],
            lon,
            lat,
            c["distance_m"],
        )
    return sorted(cameras, key=lambda c: (not c["covers"], c["distance_m"]))
