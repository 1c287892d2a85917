"""Coverage on small hand-made road graphs, checked exactly.

The line, in metres east of node 1 at 60°N; every block 100 m, 10 s::

    1 ---- 2 ====> 3 ---- 4          (2 -> 3 one-way)

and a random jittered grid with one-way streets, where the cost of each
unit's departure (one search plus a repair inside its cell) must equal a
fresh search without it.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from geo.coverage import CoverageCache, coverage, coverage_units
from geo.dispatch import UnitSnapshot
from geo.earth import LocalProjection
from geo.routing import RoadGraph, Router

LON0, LAT0 = 24.94, 60.17
PROJ = LocalProjection(LON0, LAT0)
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def at(x_m: float, y_m: float = 0.0) -> tuple[float, float]:
    return PROJ.lonlat(x_m, y_m)


def line(one_way: bool = True) -> Router:
    edges = [
        (1, 2, 10.0, 10.0, 100.0),
        (2, 3, 10.0, -1.0 if one_way else 10.0, 100.0),
        (3, 4, 10.0, 10.0, 100.0),
    ]
    return Router(RoadGraph(edges), {n: at(100.0 * (n - 1)) for n in range(1, 5)})


def cover(router: Router, units: dict[str, float], target_s: float):
    """Coverage by units placed ``x`` metres east of node 1, on the line."""
    lonlat = [at(x) for x in units.values()]
    lons, lats = [p[0] for p in lonlat], [p[1] for p in lonlat]
    return coverage(router, list(units), lons, lats, target_s)


def test_one_way_street_is_driven_only_forwards():
    router = line()
    from_west = cover(router, {"w": 0.0}, 25.0)
    from_east = cover(router, {"e": 300.0}, 25.0)
    # west: 1-2 whole, 2=>3 whole by 20 s, then 5 s (50 m) of 3-4
    assert from_west.covered_m == pytest.approx(250.0)
    # east: 3-4 whole, but 3 -> 2 is closed
    assert from_east.covered_m == pytest.approx(100.0)
    assert from_west.total_m == pytest.approx(300.0)
    assert from_east.share == pytest.approx(1 / 3)


def test_a_unit_mid_one_way_segment_covers_the_road_ahead_not_behind():
    router = line()
    assert cover(router, {"u": 150.0}, 5.0).covered_m == pytest.approx(50.0)
    # 5 s to node 3, then 5 s (50 m) either way from it; 2 -> 3 behind stays dark
    assert cover(router, {"u": 150.0}, 10.0).covered_m == pytest.approx(100.0)


def test_a_departure_that_leaves_road_uncovered_costs_exactly_that_road():
    router = line(one_way=False)
    both = cover(router, {"west": 0.0, "east": 300.0}, 15.0)
    assert both.covered_m == pytest.approx(300.0)
    assert both.covered_without_m("west") == pytest.approx(150.0)
    assert both.covered_without_m("east") == pytest.approx(150.0)
    assert both.share_without("west") == pytest.approx(0.5)
    assert both.covered_without_m("west") == pytest.approx(
        cover(router, {"east": 300.0}, 15.0).covered_m
    )


def test_two_units_covering_the_same_road_each_leave_at_no_cost():
    router = line(one_way=False)
    pair = cover(router, {"a": 0.0, "b": 300.0}, 30.0)
    assert pair.covered_m == pytest.approx(300.0)
    assert pair.covered_without_m("a") == pytest.approx(300.0)
    assert pair.covered_without_m("b") == pytest.approx(300.0)
    twins = cover(router, {"a": 100.0, "b": 100.0}, 12.0)
    assert twins.covered_m == pytest.approx(220.0)  # 1-2, 2-3 and 20 m of 3-4
    assert twins.covered_without_m("a") == twins.covered_without_m("b") == twins.covered_m


def test_unknown_unit_and_no_units():
    router = line()
    one = cover(router, {"u": 0.0}, 25.0)
    assert one.covered_without_m("busy-unit") == one.covered_m
    assert one.covered_without_m("u") == 0.0
    none = cover(router, {}, 300.0)
    assert (none.covered_m, none.share, none.lines()) == (0.0, 0.0, [])


def test_lines_draw_the_covered_stretches():
    router = line()
    got = cover(router, {"w": 0.0}, 25.0).lines()
    ends = sorted(x for a, b in got for x in (a[0], b[0]))
    want = sorted(at(x)[0] for x in (0, 100, 100, 200, 200, 250))
    assert ends == pytest.approx(want, abs=2e-6)
    assert all(p[1] == pytest.approx(LAT0, abs=1e-6) for seg in got for p in seg)


def grid(side: int = 12, seed: int = 5) -> Router:
    """A jittered grid of 80 m blocks: some streets one-way, a few links missing."""
    rng = random.Random(seed)
    xy = {
        r * side + c: (c * 80 + rng.uniform(-20, 20), r * 80 + rng.uniform(-20, 20))
        for r in range(side)
        for c in range(side)
    }
    edges = []
    for r in range(side):
        for c in range(side):
            here = r * side + c
            for there in (here + 1 if c + 1 < side else None, here + side):
                if there is None or there not in xy or rng.random() < 0.08:
                    continue
                length = math.dist(xy[here], xy[there])
                cost = length / rng.choice((8.0, 11.0, 16.0))
                back = -1.0 if rng.random() < 0.3 else cost
                edges.append((here, there, cost, back, length))
    return Router(RoadGraph(edges), {n: at(*p) for n, p in xy.items()})


@pytest.mark.parametrize("target_s", [20.0, 45.0, 70.0])
def test_each_departure_equals_a_fresh_search_without_that_unit(target_s):
    router = grid()
    rng = np.random.default_rng(11)
    ids = [f"u{i}" for i in range(12)]
    east_m, north_m = rng.uniform(0, 880, 12), rng.uniform(0, 880, 12)
    lons, lats = PROJ.lonlat(east_m, north_m)
    lons[1], lats[1] = lons[0], lats[0]  # two units on one spot
    full = coverage(router, ids, lons, lats, target_s)
    assert 0 < full.covered_m < full.total_m
    for i, unit_id in enumerate(ids):
        keep = [j for j in range(12) if j != i]
        fresh = coverage(router, [ids[j] for j in keep], lons[keep], lats[keep], target_s)
        assert full.covered_without_m(unit_id) == pytest.approx(fresh.covered_m, abs=1e-6)
    assert full.covered_without_m("u0") == pytest.approx(full.covered_m)


def unit(uid: str, kind="car", status="available", age_s=10.0, fix=True) -> UnitSnapshot:
    lon, lat = at(0.0)
    return UnitSnapshot(
        uid,
        f"C-{uid}",
        kind,
        status,
        lon if fix else None,
        lat if fix else None,
        NOW - timedelta(seconds=age_s) if fix else None,
        None,
    )


def test_only_available_driving_units_with_fresh_fixes_count():
    units = [
        unit("car"),
        unit("bike", kind="motorbike"),
        unit("foot", kind="foot"),
        unit("busy", status="busy"),
        unit("stale", age_s=301.0),
        unit("nofix", fix=False),
    ]
    ids, lons, lats = coverage_units(units, NOW, max_fix_age_s=300.0)
    assert ids == ["car", "bike"]
    assert lons.shape == lats.shape == (2,)


def test_cache_recomputes_only_when_old():
    clock = [0.0]
    cache = CoverageCache(max_age_s=5.0, clock=lambda: clock[0])
    router = line()
    calls = []

    def compute():
        calls.append(clock[0])
        return cover(router, {"u": 0.0}, 10.0)

    first = cache.get(compute)
    clock[0] = 4.9
    assert cache.get(compute) is first
    clock[0] = 5.0
    assert cache.get(compute) is not first
    assert calls == [0.0, 5.0]
