"""Camera geometry: the field-of-view cone a camera sees. Pure functions."""

from __future__ import annotations

import math

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
