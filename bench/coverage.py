"""Benchmark: road coverage within the target time (geo.coverage).

Cities as in ``bench/dispatch.py``: the sample city (central Helsinki) with 40
units and the synthetic ~100,000-edge city with 1,000 units, at random on the
roads. Timed, per repetition:

- ``search``: :func:`geo.coverage.coverage`, one forward multi-source Dijkstra
  plus the covered metres of every segment;
- ``leave5``: the coverage cost of 5 units leaving, by the cell repair;
- ``naive5``: the same 5 answers from 5 fresh searches without each unit
  (the ceiling the repair must beat, measured in the same run; its answers
  are checked equal);
- ``lines``: the covered stretches as lon/lat lines for the map layer.

Run from the repository root: ``.venv/bin/python bench/coverage.py``.
"""

from __future__ import annotations

import time

import numpy as np

# bench/ is on sys.path when this file runs as a script.
from dispatch import City, _points_on_roads, sample_city, synthetic_city

from geo.coverage import coverage
from geo.routing import RoadGraph, Router

TARGET_S = 300.0
REPEATS = 20


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def run(city: City, units: int, target_s: float = TARGET_S) -> str:
    router = Router(RoadGraph(city.edges), city.nodes)
    rng = np.random.default_rng(4)
    times: dict[str, list[float]] = {"search": [], "leave5": [], "naive5": [], "lines": []}
    share, drops = 0.0, []
    for _ in range(REPEATS):
        lons, lats = _points_on_roads(rng, city, router, units)
        ids = [f"U{i:05d}" for i in range(units)]
        start = time.perf_counter()
        cov = coverage(router, ids, lons, lats, target_s)
        times["search"].append(_ms(start))
        leaving = [int(i) for i in rng.choice(units, 5, replace=False)]
        start = time.perf_counter()
        fast = [cov.covered_without_m(ids[i]) for i in leaving]
        times["leave5"].append(_ms(start))
        start = time.perf_counter()
        slow = []
        for i in leaving:
            keep = np.arange(units) != i
            rest = [u for u, k in zip(ids, keep, strict=True) if k]
            slow.append(coverage(router, rest, lons[keep], lats[keep], target_s).covered_m)
        times["naive5"].append(_ms(start))
        assert np.allclose(fast, slow, atol=1e-6), (fast, slow)
        start = time.perf_counter()
        cov.lines()
        times["lines"].append(_ms(start))
        share = cov.share
        drops += [(cov.covered_m - f) / cov.total_m * 100 for f in fast]
    figures = " ".join(
        f"{k}_p50_ms={np.percentile(v, 50):.2f} {k}_p95_ms={np.percentile(v, 95):.2f}"
        for k, v in times.items()
    )
    return (
        f"coverage city={city.name} edges={len(city.edges)} segments={len(router.segments.a)} "
        f"units={units} target_s={target_s:.0f} share={share:.3f} "
        f"max_drop_pct={max(drops):.2f} {figures}"
    )


def main() -> None:
    print(run(sample_city(), 40), flush=True)
    big = synthetic_city()
    print(run(big, 1000), flush=True)
    # 5 min covers the whole synthetic city; 60 s shows what a departure costs there.
    print(run(big, 1000, 60.0), flush=True)


if __name__ == "__main__":
    main()
