"""Coverage: how much of the road network the available units can reach
within a target time, and how much of it each unit's departure would lose.

Pure numpy/scipy over a :class:`geo.routing.Router`: no database, no Dash.

Units drive *to* places, so the search runs forward over the one-way-aware car
graph. Each unit joins the graph as a virtual source node with edges to the two
ends of the segment it snaps onto, costing the partial segment in each open
direction; one multi-source Dijkstra (``min_only=True``, ``limit=target``)
gives every node its earliest arrival and which unit gets there first.

A point at fraction ``s`` of a segment (a, b) is covered when
``d(a) + s·cost(a→b) <= target`` or ``d(b) + (1 − s)·cost(b→a) <= target``;
that is exact along the segment, so coverage is counted in metres of road
(``Segments`` lengths), not in nodes. A unit also covers its own segment from
its snapped point onwards in each open direction, so a car on a one-way street
covers the stretch ahead of it. Approximations: the unit's distance off the
road is ignored (as in routing), and a segment is straight.

The cost of one unit leaving comes from the same search, not from a new one
per unit: only nodes whose fastest unit is u (u's "cell") can get worse, and
their time without u is the best time from just outside the cell (those nodes'
times do not depend on u) or from another unit attached inside it, carried
through the cell. That is one small Dijkstra over the cell per unit. Measured
in ``bench/coverage.py``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from geo.dispatch import UnitSnapshot
from geo.routing import Router
from geo.snap import Floats, Ints

# Foot patrols do not drive the car graph at car speeds; they are left out.
DRIVING_KINDS: frozenset[str] = frozenset({"car", "motorbike"})
# csgraph reads an explicit 0 as "no edge": a unit standing on a node costs this.
_TINY_S = 1e-9


@dataclass(frozen=True, slots=True)
class Pieces:
    """Covered stretches: segment ``seg`` (router segment index) from
    fraction ``start`` to ``end`` (0 = node a, 1 = node b), element-wise."""

    seg: Ints
    start: Floats
    end: Floats


@dataclass
class Coverage:
    """Road reachable within ``target_s`` seconds by at least one of the units
    ``unit_ids``. ``covered_m``/``total_m`` are metres of road (each segment
    counted once, whatever its directions). Build with :func:`coverage`."""

    router: Router
    target_s: float
    unit_ids: tuple[str, ...]
    arrive_s: Floats  # earliest arrival at each graph node (inf beyond target)
    first: Ints  # index into unit_ids of the unit arriving first, -1 if none
    attach: Ints  # k×2: each unit's segment ends (a, b)
    attach_s: Floats  # k×2: time to drive from the unit to each end (inf if closed)
    unit_seg: Ints
    unit_t: Floats
    seg_length_m: Floats
    seg_covered_m: Floats
    _without_m: dict[str, float] = field(default_factory=dict, repr=False)

    @property
    def total_m(self) -> float:
        return float(self.seg_length_m.sum())

    @property
    def covered_m(self) -> float:
        return float(self.seg_covered_m.sum())

    @property
    def share(self) -> float:
        """Covered share of the network's road length, 0-1 (0 for no roads)."""
        total = self.total_m
        return self.covered_m / total if total > 0 else 0.0

    def covered_without_m(self, unit_id: str) -> float:
        """Metres of road still covered if ``unit_id`` leaves, the other units
        staying where they are; the whole ``covered_m`` when it is not one of
        ``unit_ids`` (busy, on foot, stale: it covers nothing now)."""
        if unit_id not in self._without_m:
            self._without_m[unit_id] = self._compute_without(unit_id)
        return self._without_m[unit_id]

    def share_without(self, unit_id: str) -> float:
        """:meth:`covered_without_m` as a share of the network, 0-1."""
        total = self.total_m
        return self.covered_without_m(unit_id) / total if total > 0 else 0.0

    def pieces(self) -> Pieces:
        """The covered stretches of road, for drawing: one per segment, or two
        when cover reaches in from both ends without meeting."""
        every = np.arange(len(self.seg_length_m))
        x, y = _reach(self, every, self.arrive_s)
        hosts = _hosts(self, every, -1)
        plain = np.ones(len(every), dtype=bool)
        plain[list(hosts)] = False
        whole = plain & (x + y >= 1.0)
        head, tail = plain & ~whole & (x > 0), plain & ~whole & (y > 0)
        seg = [np.flatnonzero(whole), np.flatnonzero(head), np.flatnonzero(tail)]
        start = [np.zeros(len(seg[0])), np.zeros(len(seg[1])), 1.0 - y[tail]]
        end = [np.ones(len(seg[0])), x[head], np.ones(len(seg[2]))]
        for host, units in hosts.items():
            spans = _merge(_end_spans(x[host], y[host]) + _unit_spans(self, units))
            seg.append(np.full(len(spans), host, dtype=np.int64))
            start.append(np.array([lo for lo, _ in spans], dtype=np.float64))
            end.append(np.array([hi for _, hi in spans], dtype=np.float64))
        return Pieces(
            np.concatenate(seg).astype(np.int64), np.concatenate(start), np.concatenate(end)
        )

    def lines(self) -> list[list[list[float]]]:
        """Covered stretches as two-point lines of [lon, lat] degrees (rounded
        to 1e-6°, about 0.1 m), ready for a GeoJSON MultiLineString."""
        p = self.pieces()
        segments, lonlat = self.router.segments, self.router.lonlat
        a, b = lonlat[segments.a[p.seg]], lonlat[segments.b[p.seg]]
        start = np.round(a + (b - a) * p.start[:, None], 6)
        end = np.round(a + (b - a) * p.end[:, None], 6)
        return np.stack([start, end], axis=1).tolist()

    def _compute_without(self, unit_id: str) -> float:
        if unit_id not in self.unit_ids:
            return self.covered_m
        i = self.unit_ids.index(unit_id)
        n = len(self.router.node_ids)
        cell = np.flatnonzero(self.first == i)
        arrive = self.arrive_s.copy()
        arrive[cell] = _arrivals_without(self, i, cell)
        in_cell = np.zeros(n, dtype=bool)
        in_cell[cell] = True
        segments = self.router.segments
        hit = in_cell[segments.a] | in_cell[segments.b]
        hit[self.unit_seg[i]] = True
        touched = np.flatnonzero(hit)
        after = _segment_cover_m(self, touched, arrive, skip=i)
        return self.covered_m - float(self.seg_covered_m[touched].sum()) + float(after.sum())


def coverage(
    router: Router,
    unit_ids: Sequence[str],
    lons: ArrayLike,
    lats: ArrayLike,
    target_s: float,
) -> Coverage:
    """Road reachable within ``target_s`` seconds by car from the units at
    (lons, lats), degrees, each snapped onto its nearest road segment. One
    forward multi-source Dijkstra. No units: nothing is covered."""
    if target_s < 0:
        raise ValueError(f"target_s must be >= 0, got {target_s}")
    segments = router.segments
    lons, lats = np.atleast_1d(np.asarray(lons, dtype=np.float64)), np.atleast_1d(lats)
    snaps = router.snap(lons, lats)
    seg, t = snaps.segment, snaps.fraction
    to_a, _ = segments.drive(seg, t, 0.0)
    to_b, _ = segments.drive(seg, t, 1.0)
    attach = np.column_stack([segments.a[seg], segments.b[seg]]).astype(np.int64)
    attach_s = np.column_stack([to_a, to_b]).reshape(-1, 2)
    n, k = len(router.node_ids), len(unit_ids)
    if k:
        graph = _with_sources(router.forward, attach.reshape(-1, 2), attach_s)
        dist, _, src = dijkstra(
            graph,
            indices=np.arange(n, n + k),
            min_only=True,
            limit=target_s,
            return_predecessors=True,
        )
        arrive, first = dist[:n], np.where(src[:n] >= 0, src[:n] - n, -1)
    else:
        arrive, first = np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
    length = np.fmin(segments.length_ab_m, segments.length_ba_m)
    cov = Coverage(
        router,
        float(target_s),
        tuple(unit_ids),
        arrive,
        first.astype(np.int64),
        attach.reshape(-1, 2),
        attach_s,
        seg.astype(np.int64),
        t,
        length,
        np.zeros(len(length)),
    )
    cov.seg_covered_m = _segment_cover_m(cov, np.arange(len(length)), arrive, skip=-1)
    return cov


def coverage_units(
    units: Iterable[UnitSnapshot],
    now: datetime,
    max_fix_age_s: float,
    statuses: AbstractSet[str] = frozenset({"available"}),
    kinds: AbstractSet[str] = DRIVING_KINDS,
) -> tuple[list[str], Floats, Floats]:
    """(ids, lons, lats) of the units that count for coverage: in one of
    ``statuses``, of a driving kind, with a fix at most ``max_fix_age_s``
    seconds old (as :func:`geo.dispatch.screen` judges freshness)."""
    oldest = now - timedelta(seconds=max_fix_age_s)
    keep = [
        u
        for u in units
        if u.status in statuses
        and u.kind in kinds
        and u.lon is not None
        and u.lat is not None
        and u.fix_at is not None
        and u.fix_at >= oldest
    ]
    return (
        [u.id for u in keep],
        np.array([u.lon for u in keep], dtype=np.float64),
        np.array([u.lat for u in keep], dtype=np.float64),
    )


class CoverageCache:
    """The latest :class:`Coverage` of a process, recomputed at most every
    ``max_age_s`` seconds (monotonic clock): units move, but a desk ticking
    every second need not search the city every second. Thread-safe; callers
    arriving while it is computed wait and share the result."""

    def __init__(self, max_age_s: float = 5.0, clock: Callable[[], float] = time.monotonic):
        self.max_age_s = max_age_s
        self._clock = clock
        self._lock = threading.Lock()
        self._value: Coverage | None = None
        self._at = -np.inf

    def get(self, compute: Callable[[], Coverage]) -> Coverage:
        """The cached coverage, or ``compute()``'s when older than ``max_age_s``."""
        with self._lock:
            now = self._clock()
            if self._value is None or now - self._at >= self.max_age_s:
                self._value, self._at = compute(), now
            return self._value


def _with_sources(forward: csr_matrix, attach: Ints, attach_s: Floats) -> csr_matrix:
    """``forward`` (n×n) grown by one virtual node per unit, each with an edge
    to the ends of its segment it can drive to (closed directions left out)."""
    n, k = forward.shape[0], len(attach)
    open_ = np.isfinite(attach_s)
    indptr = np.concatenate([forward.indptr, forward.nnz + np.cumsum(open_.sum(axis=1))])
    indices = np.concatenate([forward.indices, attach[open_]])
    data = np.concatenate([forward.data, np.maximum(attach_s[open_], _TINY_S)])
    return csr_matrix((data, indices, indptr), shape=(n + k, n + k))


def _arrivals_without(cov: Coverage, unit: int, cell: Ints) -> Floats:
    """Earliest arrival at each ``cell`` node (whose fastest unit is ``unit``)
    by the other units only, within the target; inf where none makes it.

    Any such route enters the cell last from a node outside it, whose time
    does not depend on ``unit``, or starts at another unit attached to a cell
    node: a search from a super source over the cell and its in-neighbours."""
    if len(cell) == 0:
        return np.zeros(0)
    router = cov.router
    n = len(router.node_ids)
    # router.reverse is the forward graph transposed (plus a spare row we skip).
    into = router.reverse[cell].indices
    outside = np.setdiff1d(into[into < n], cell)
    outside = outside[np.isfinite(cov.arrive_s[outside])]
    nodes = np.concatenate([cell, outside])
    start = np.concatenate([np.full(len(cell), np.inf), cov.arrive_s[outside]])
    where = np.full(n, -1, dtype=np.int64)
    where[nodes] = np.arange(len(nodes))
    others = np.arange(len(cov.unit_ids)) != unit
    for end in (0, 1):
        at, cost = where[cov.attach[:, end]], cov.attach_s[:, end]
        ok = others & (at >= 0) & np.isfinite(cost)
        np.minimum.at(start, at[ok], cost[ok])
    sub = router.forward[nodes][:, nodes].tocsr()
    seeds = np.flatnonzero(np.isfinite(start))
    if len(seeds) == 0:
        return np.full(len(cell), np.inf)
    graph = _with_sources(sub, seeds[:, None], np.maximum(start[seeds], _TINY_S)[:, None])
    m = len(nodes)
    dist = dijkstra(graph, indices=np.arange(m, m + len(seeds)), min_only=True, limit=cov.target_s)
    return dist[: len(cell)]


def _segment_cover_m(cov: Coverage, segs: Ints, arrive: Floats, skip: int) -> Floats:
    """Covered metres of each of ``segs`` given node arrival times ``arrive``,
    with every unit but ``skip`` (-1: none skipped) covering its own segment."""
    x, y = _reach(cov, segs, arrive)
    fraction = np.minimum(1.0, x + y)
    hosts = _hosts(cov, segs, skip)
    if hosts:
        for seg, units in hosts.items():
            j = int(np.searchsorted(segs, seg))  # segs are sorted
            spans = _merge(_end_spans(x[j], y[j]) + _unit_spans(cov, units))
            fraction[j] = sum(hi - lo for lo, hi in spans)
    return fraction * cov.seg_length_m[segs]


def _reach(cov: Coverage, segs: Ints, arrive: Floats) -> tuple[Floats, Floats]:
    """How far into each segment (fraction) cover reaches from node a (x) and
    from node b (y), driving along it in its open directions."""
    s = cov.router.segments
    target = cov.target_s
    d_a, d_b = arrive[s.a[segs]], arrive[s.b[segs]]
    # target - inf is -inf in the branch not taken: no warning, no NaN.
    slack_a = np.where(d_a <= target, target - d_a, 0.0)
    slack_b = np.where(d_b <= target, target - d_b, 0.0)
    x = np.clip(slack_a / np.maximum(s.cost_ab_s[segs], _TINY_S), 0.0, 1.0)
    y = np.clip(slack_b / np.maximum(s.cost_ba_s[segs], _TINY_S), 0.0, 1.0)
    return x, y


def _hosts(cov: Coverage, segs: Ints, skip: int) -> dict[int, list[int]]:
    """Units (but ``skip``) standing on each of ``segs``, by segment."""
    wanted = set(segs.tolist()) if len(segs) < len(cov.seg_length_m) else None
    out: dict[int, list[int]] = {}
    for i, seg in enumerate(cov.unit_seg.tolist()):
        if i != skip and (wanted is None or seg in wanted):
            out.setdefault(seg, []).append(i)
    return out


def _end_spans(x: float, y: float) -> list[tuple[float, float]]:
    spans = []
    if x > 0:
        spans.append((0.0, float(x)))
    if y > 0:
        spans.append((1.0 - float(y), 1.0))
    return spans


def _unit_spans(cov: Coverage, units: Iterable[int]) -> list[tuple[float, float]]:
    """What each unit covers of its own segment: ahead of it in every open
    direction, as far as the target time takes it."""
    s, target = cov.router.segments, cov.target_s
    spans = []
    for i in units:
        seg, t = int(cov.unit_seg[i]), float(cov.unit_t[i])
        ab, ba = float(s.cost_ab_s[seg]), float(s.cost_ba_s[seg])
        if np.isfinite(ab):
            spans.append((t, min(1.0, t + target / max(ab, _TINY_S))))
        if np.isfinite(ba):
            spans.append((max(0.0, t - target / max(ba, _TINY_S)), t))
    return [sp for sp in spans if sp[1] > sp[0]]


def _merge(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Union of fraction spans, sorted, overlapping ones joined."""
    out: list[tuple[float, float]] = []
    for lo, hi in sorted(spans):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def coverage_percent(covered_m: float, total_m: float) -> int:
    """Covered share of the road network in whole percent, rounded down so
    "100 %" means every metre is covered; 0 when there are no roads."""
    return int(covered_m / total_m * 100) if total_m > 0 else 0


def with_coverage(ranked: list[dict[str, Any]], cover: Coverage) -> list[dict[str, Any]]:
    """Suggestion rows with ``coverage_pct`` (share of the road network still
    covered within the target if this unit is sent, whole %) and
    ``coverage_drop_pct`` (how many points that is below now)."""
    now_pct = coverage_percent(cover.covered_m, cover.total_m)
    out = []
    for r in ranked:
        after = coverage_percent(cover.covered_without_m(r["unit_id"]), cover.total_m)
        out.append({**r, "coverage_pct": after, "coverage_drop_pct": now_pct - after})
    return out
