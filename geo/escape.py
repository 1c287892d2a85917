"""Escape-route cameras: which cameras a car or a person fleeing an incident
could pass within a few minutes, and when. Pure numpy/scipy over the same
:class:`geo.routing.Router` that ranks units; no database, no Dash.

Someone leaving drives (or runs) *away* from the spot, so the search runs
forward from it: the spot snaps onto its road segment as in routing, one
Dijkstra from each end of that segment (at the cost of getting there along
the segment, in an open direction) gives every node its earliest time.

A camera sees a stretch of a road segment where the segment crosses its
field of view (the sector of ``range_m`` and ``fov_deg`` around
``bearing_deg``), computed exactly on the router's local plane. The time a
fleeing car or person could pass the camera is the earliest time they reach
any point of such a stretch: entering it at its end nearest to a reached
node, or, on the spot's own segment, driving along to it (zero when the
spot itself is seen). Segments are straight; a camera's own height and
occlusions are ignored.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse.csgraph import dijkstra

from geo.routing import Router
from geo.snap import Floats

BANDS_S: tuple[float, ...] = (60.0, 120.0, 180.0)
# Running, not strolling: someone fleeing on foot (geo.osm walks at 5 km/h).
FLEE_FOOT_KMH = 10.0


@dataclass(frozen=True, slots=True)
class Camera:
    """A camera at (lon, lat) degrees looking along compass ``bearing_deg``
    with a field of view ``fov_deg`` wide and ``range_m`` deep."""

    id: str
    lon: float
    lat: float
    bearing_deg: float
    fov_deg: float
    range_m: float


@dataclass(frozen=True, slots=True)
class EscapeCamera:
    """When a fleeing car (``car_s``) and a person on foot (``foot_s``) could
    first pass in view of camera ``camera_id``, seconds after leaving the
    spot; None where that cannot happen within the horizon."""

    camera_id: str
    car_s: float | None
    foot_s: float | None

    @property
    def first_s(self) -> float:
        """The earlier of the two times (s)."""
        return min(t for t in (self.car_s, self.foot_s) if t is not None)

    @property
    def band_s(self) -> float:
        """The smallest band of :data:`BANDS_S` (60, 120, 180 s) holding ``first_s``."""
        return next((b for b in BANDS_S if self.first_s <= b), math.inf)


def node_times_s(router: Router, lon: float, lat: float, limit_s: float) -> Floats:
    """Earliest time (s) from (lon, lat), degrees, to every graph node, leaving
    along the segment the point snaps onto in each open direction; infinite
    beyond ``limit_s`` or where no road leads."""
    snap = router.snap([lon], [lat])
    seg, t = snap.segment[:1], snap.fraction[:1]
    segments = router.segments
    times = np.full(len(router.node_ids), np.inf)
    for end, fraction in ((segments.a[seg[0]], 0.0), (segments.b[seg[0]], 1.0)):
        lead_s = float(segments.drive(seg, t, fraction)[0][0])
        if lead_s <= limit_s:
            far = dijkstra(router.forward, indices=int(end), limit=limit_s - lead_s)
            times = np.minimum(times, lead_s + far)
    return times


def fov_intervals(
    camera_xy: tuple[float, float], cam: Camera, a_xy: Sequence[float], b_xy: Sequence[float]
) -> list[tuple[float, float]]:
    """Fractions [s0, s1] of the straight segment a→b (metres on a plane,
    x east, y north) inside the camera's field of view: within ``range_m`` and
    within ``fov_deg / 2`` of its bearing. At most two intervals; empty when
    the segment misses the view or has no length."""
    cx, cy = camera_xy
    ax, ay = a_xy[0] - cx, a_xy[1] - cy
    dx, dy = b_xy[0] - a_xy[0], b_xy[1] - a_xy[1]
    disk = _disk_interval(ax, ay, dx, dy, cam.range_m)
    if disk is None:
        return []
    half = math.radians(min(cam.fov_deg, 360.0) / 2)
    if half >= math.pi:
        return [disk]
    beta = math.radians(cam.bearing_deg)
    if half <= math.pi / 2:
        wedges = [_wedge_interval(ax, ay, dx, dy, beta, half)]
    else:
        # A view wider than 180° is the whole plane less the narrower
        # opposite wedge, which is convex.
        opposite = _wedge_interval(ax, ay, dx, dy, beta + math.pi, math.pi - half)
        wedges = [(0.0, 1.0)] if opposite is None else [(0.0, opposite[0]), (opposite[1], 1.0)]
    out = []
    for wedge in wedges:
        if wedge is not None and max(wedge[0], disk[0]) <= min(wedge[1], disk[1]):
            out.append((max(wedge[0], disk[0]), min(wedge[1], disk[1])))
    return out


def _disk_interval(
    ax: float, ay: float, dx: float, dy: float, r: float
) -> tuple[float, float] | None:
    """Fractions s in [0, 1] with |a + s·d| <= r (a relative to the centre)."""
    qa, qb, qc = dx * dx + dy * dy, 2 * (ax * dx + ay * dy), ax * ax + ay * ay - r * r
    if qa == 0.0:
        return None
    disc = qb * qb - 4 * qa * qc
    if disc < 0:
        return None
    root = math.sqrt(disc)
    lo, hi = max((-qb - root) / (2 * qa), 0.0), min((-qb + root) / (2 * qa), 1.0)
    return (lo, hi) if lo <= hi else None


def _wedge_interval(
    ax: float, ay: float, dx: float, dy: float, beta: float, half: float
) -> tuple[float, float] | None:
    """Fractions s in [0, 1] with a + s·d inside the convex wedge of compass
    bearing ``beta`` ± ``half`` radians (half <= π/2) from the origin: clockwise
    of its left edge and anticlockwise of its right edge (two half-planes)."""
    lo, hi = 0.0, 1.0
    for edge, sign in ((beta - half, -1.0), (beta + half, 1.0)):
        ex, ey = math.sin(edge), math.cos(edge)
        # sign * cross(edge, a + s·d) >= 0, linear in s: f0 + s·f1 >= 0
        f0, f1 = sign * (ex * ay - ey * ax), sign * (ex * dy - ey * dx)
        if f1 == 0.0:
            if f0 < 0:
                return None
        elif f1 > 0:
            lo = max(lo, -f0 / f1)
        else:
            hi = min(hi, -f0 / f1)
    return (lo, hi) if lo <= hi else None


def pass_times_s(
    router: Router, lon: float, lat: float, cameras: Iterable[Camera], limit_s: float
) -> dict[str, float]:
    """Camera id -> earliest time (s) someone leaving (lon, lat) over
    ``router``'s roads could be in its view; cameras not reached within
    ``limit_s`` are left out."""
    times = node_times_s(router, lon, lat, limit_s)
    snap = router.snap([lon], [lat])
    own_seg, own_t = int(snap.segment[0]), float(snap.fraction[0])
    x, y = router.projection.to_xy(router.lonlat[:, 0], router.lonlat[:, 1])
    seg = router.segments
    out: dict[str, float] = {}
    for cam in cameras:
        cxy = router.projection.xy(cam.lon, cam.lat)
        near = _segments_near(x, y, seg.a, seg.b, cxy, cam.range_m)
        best = math.inf
        for i in near:
            a, b = int(seg.a[i]), int(seg.b[i])
            for s0, s1 in fov_intervals(cxy, cam, (x[a], y[a]), (x[b], y[b])):
                best = min(best, times[a] + _part_s(s0, seg.cost_ab_s[i]))
                best = min(best, times[b] + _part_s(1.0 - s1, seg.cost_ba_s[i]))
                if i == own_seg:
                    best = min(best, _along_s(router, i, own_t, s0, s1))
        if best <= limit_s:
            out[cam.id] = float(best)
    return out


def _part_s(share: float, cost_s: float) -> float:
    """Time (s) to cover ``share`` of a segment costing ``cost_s`` that way:
    zero for no share even against a closed way (the node itself is seen)."""
    return 0.0 if share <= 0.0 else share * float(cost_s)


def _along_s(router: Router, seg: int, t: float, s0: float, s1: float) -> float:
    """Time (s) from fraction ``t`` of segment ``seg`` to the stretch [s0, s1]
    along the segment itself: zero inside it, infinite against a closed way."""
    if s0 <= t <= s1:
        return 0.0
    target = s0 if t < s0 else s1
    cost, _ = router.segments.drive(np.array([seg]), [t], [target])
    return float(cost[0])


def _segments_near(
    x: Floats, y: Floats, a: np.ndarray, b: np.ndarray, c: tuple[float, float], r: float
) -> list[int]:
    """Indices of segments (a[i], b[i]) passing within ``r`` metres of ``c``."""
    ax, ay, bx, by = x[a] - c[0], y[a] - c[1], x[b] - c[0], y[b] - c[1]
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    s = np.clip(-(ax * dx + ay * dy) / np.where(length2 > 0, length2, 1.0), 0.0, 1.0)
    px, py = ax + s * dx, ay + s * dy
    return [int(i) for i in np.flatnonzero(px * px + py * py <= r * r)]


def escape_cameras(
    car: Router,
    foot: Router,
    lon: float,
    lat: float,
    cameras: Sequence[Camera],
    horizon_s: float = BANDS_S[-1],
) -> list[EscapeCamera]:
    """Cameras a car (over ``car``'s one-way-aware roads) or a person (over
    ``foot``'s paths, costed in seconds) leaving (lon, lat) could pass within
    ``horizon_s``, ordered by the earlier of the two times, then by id."""
    by_car = pass_times_s(car, lon, lat, cameras, horizon_s)
    by_foot = pass_times_s(foot, lon, lat, cameras, horizon_s)
    rows = [
        EscapeCamera(c.id, by_car.get(c.id), by_foot.get(c.id))
        for c in cameras
        if c.id in by_car or c.id in by_foot
    ]
    return sorted(rows, key=lambda r: (r.first_s, r.camera_id))


def foot_edges(
    rows: Iterable[Sequence[float]], speed_kmh: float = FLEE_FOOT_KMH
) -> list[tuple[int, int, float, float, float]]:
    """Foot graph rows (source, target, length_m) as RoadGraph edges costed in
    seconds at ``speed_kmh`` both ways (paths are not one-way on foot)."""
    speed_mps = speed_kmh / 3.6
    return [(int(s), int(t), m / speed_mps, m / speed_mps, m) for s, t, m in rows]
