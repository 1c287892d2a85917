"""Camera geometry: the field-of-view cone a camera sees. Pure functions."""

from __future__ import annotations

from typing import Any

from geo import earth


def fov_cone(
    lon: float, lat: float, bearing_deg: float, fov_deg: float, range_m: float, steps: int = 12
) -> list[tuple[float, float]]:
    """Closed ring (lon, lat) of the sector a camera sees: apex at the camera,
    arc at ``range_m`` from ``bearing - fov/2`` to ``bearing + fov/2``."""
    start = bearing_deg - fov_deg / 2
    arc = [
        earth.destination(lon, lat, start + fov_deg * i / steps, range_m) for i in range(steps + 1)
    ]
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
    to_point = earth.bearing_deg(cam_lon, cam_lat, lon, lat)
    off = abs((to_point - bearing_deg + 180.0) % 360.0 - 180.0)
    return off <= fov_deg / 2


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
