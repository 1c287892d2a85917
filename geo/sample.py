"""Station furniture for a road network: station, beats, cameras and a roster.

Deterministic for a seed, so the committed sample city (``data/helsinki``) can
be remade byte for byte with ``python data/make_sample.py``, and any other
extract loaded with ``dispatchmap load-city`` gets a usable demo set-up.
Pure functions: no database, no network.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from shapely.geometry import MultiPoint, MultiPolygon, Polygon, box

from geo import earth
from geo.osm import RoadNetwork

KIND_COUNTS = {"car": 16, "motorbike": 8, "foot": 16}
CALL_PREFIX = {"car": "C", "motorbike": "M", "foot": "F"}


@dataclass(frozen=True, slots=True)
class Station:
    id: str
    name: str
    phone: str
    lon: float
    lat: float


@dataclass(frozen=True, slots=True)
class Beat:
    id: str
    name: str
    geom: MultiPolygon


@dataclass(frozen=True, slots=True)
class Camera:
    id: str
    name: str
    lon: float
    lat: float
    bearing_deg: float
    fov_deg: float
    range_m: float
    stream_url: str


@dataclass(frozen=True, slots=True)
class RosterUnit:
    """One unit and its devices. ``gps_device`` is empty for foot officers."""

    id: str
    call_sign: str
    kind: str
    home_beat: str
    talkgroup: str
    phone: str
    radio_issi: str
    gps_device: str
    gps_format: str
    phone_device: str
    gps_coords: str = "wgs84"  # "gcj02": the device reports Chinese map SDK coordinates


def car_degree(net: RoadNetwork) -> dict[int, int]:
    """Number of car edges meeting at each node."""
    degree: dict[int, int] = {}
    for edge in net.edges:
        if edge.car:
            degree[edge.source] = degree.get(edge.source, 0) + 1
            degree[edge.target] = degree.get(edge.target, 0) + 1
    return degree


def make_station(net: RoadNetwork, name: str) -> Station:
    """The station at the car-network node nearest the network's centroid."""
    degree = car_degree(net)
    xs = [net.nodes[n] for n in degree]
    cx = sum(x for x, _ in xs) / len(xs)
    cy = sum(y for _, y in xs) / len(xs)
    node = min(degree, key=lambda n: (net.nodes[n][0] - cx) ** 2 + (net.nodes[n][1] - cy) ** 2)
    lon, lat = net.nodes[node]
    return Station("S1", name, "+358 295 470 000", round(lon, 7), round(lat, 7))


def make_beats(net: RoadNetwork, cols: int = 4, rows: int = 2) -> list[Beat]:
    """``cols`` x ``rows`` beats tiling the network's hull (buffered ~50 m), west to east."""
    hull = MultiPoint(list(net.nodes.values())).convex_hull.buffer(0.0008)
    minx, miny, maxx, maxy = hull.bounds
    dx, dy = (maxx - minx) / cols, (maxy - miny) / rows
    beats: list[Beat] = []
    for r in range(rows):
        for c in range(cols):
            cell = box(minx + c * dx, miny + r * dy, minx + (c + 1) * dx, miny + (r + 1) * dy)
            part = hull.intersection(cell)
            if part.is_empty:
                continue
            polys = [part] if isinstance(part, Polygon) else list(part.geoms)
            n = len(beats) + 1
            beats.append(Beat(f"B{n}", f"Beat {n}", MultiPolygon(polys)))
    return beats


def make_cameras(net: RoadNetwork, count: int, rng: random.Random) -> list[Camera]:
    """``count`` cameras at busy junctions, spread out by farthest-point sampling,
    each looking down one of the roads that meet there."""
    degree = car_degree(net)
    junctions = sorted(n for n, d in degree.items() if d >= 3)
    chosen = [rng.choice(junctions)]
    dist = {n: math.inf for n in junctions}
    while len(chosen) < min(count, len(junctions)):
        last = net.nodes[chosen[-1]]
        for n in junctions:
            x, y = net.nodes[n]
            dist[n] = min(dist[n], (x - last[0]) ** 2 + ((y - last[1]) * 2) ** 2)
        chosen.append(max(junctions, key=lambda n: dist[n]))
    neighbours: dict[int, list[int]] = {}
    for edge in net.edges:
        if edge.car:
            neighbours.setdefault(edge.source, []).append(edge.target)
            neighbours.setdefault(edge.target, []).append(edge.source)
    cameras = []
    for i, node in enumerate(chosen, start=1):
        lon, lat = net.nodes[node]
        towards = net.nodes[rng.choice(sorted(neighbours[node]))]
        cameras.append(
            Camera(
                id=f"CAM{i:02d}",
                name=f"Camera {i:02d}",
                lon=round(lon, 7),
                lat=round(lat, 7),
                bearing_deg=round(earth.bearing_deg(lon, lat, *towards), 1),
                fov_deg=float(rng.choice([60, 75, 90, 110])),
                range_m=float(rng.randrange(50, 130, 10)),
                stream_url=f"rtsp://video.station.local:554/live/cam{i:02d}",
            )
        )
    return cameras


def make_roster(beats: list[Beat]) -> list[RosterUnit]:
    """About 40 units (cars, motorbikes, foot officers) spread over the beats."""
    units: list[RosterUnit] = []
    for kind, count in KIND_COUNTS.items():
        for i in range(1, count + 1):
            n = len(units) + 1
            prefix = CALL_PREFIX[kind]
            beat = beats[(i - 1) % len(beats)]
            units.append(
                RosterUnit(
                    id=f"U{n:03d}",
                    call_sign=f"{prefix}-{i:02d}",
                    kind=kind,
                    home_beat=beat.id,
                    talkgroup=f"91{beat.id[1:]:0>2}",
                    phone=f"+358 50 010 {n:04d}",
                    radio_issi=str(2620100 + n),
                    gps_device="" if kind == "foot" else f"trk-{prefix.lower()}{i:02d}",
                    gps_format="" if kind == "foot" else ("native" if i % 2 else "nmea"),
                    phone_device=f"owntracks/{prefix.lower()}{i:02d}/phone",
                )
            )
    return units
