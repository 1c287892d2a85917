"""In-process road graphs for routing (scipy.sparse.csgraph), built once from
PostGIS rows. Pure: no database access here, so it tests on hand-made graphs.

Costs are seconds (car, honouring one-way streets) or metres (foot); an edge
cost below zero means "closed in that direction", as in pgRouting.

:class:`Router` answers "how long from everywhere to this point": one Dijkstra
from the point over the reversed graph gives every unit's ETA at once. Points
snap onto the nearest segment (not the nearest node) and the partial segment
counts: measured in ``bench/dispatch.py``, nearest-node snapping moves ETAs by
4 s at the median and 18 s at the 95th percentile on the 110 m-block synthetic
city, and changes the first pick for 1 incident in 10 there (4 in 10 in the
much denser sample city). Snapping 6,000 points onto edges took 4.7 ms there
against 7.3 ms for a nearest-node KD query (16 ms against 3 ms on the sample
city, whose segments are 8 m long at the median).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra

from geo.earth import LocalProjection
from geo.snap import Floats, Ints, SegmentIndex, Snaps, node_positions_xy


class RoadGraph:
    """A directed weighted graph over OSM node ids.

    ``edges`` are (source, target, cost, reverse_cost, length_m); where two
    edges join the same pair of nodes the cheaper one wins.
    """

    def __init__(self, edges: Iterable[Sequence[float]]) -> None:
        best: dict[tuple[int, int], tuple[float, float]] = {}
        for source, target, cost, reverse_cost, length_m in edges:
            for a, b, c in ((source, target, cost), (target, source, reverse_cost)):
                key = (int(a), int(b))
                if c >= 0 and (key not in best or c < best[key][0]):
                    best[key] = (float(c), float(length_m))
        ids = sorted({n for pair in best for n in pair})
        self.node_ids = np.array(ids, dtype=np.int64)
        self.index = {n: i for i, n in enumerate(ids)}
        rows = [self.index[a] for a, _ in best]
        cols = [self.index[b] for _, b in best]
        # csgraph treats an explicit 0 as "no edge": keep zero-length edges tiny, not absent.
        costs = [max(c, 1e-6) for c, _ in best.values()]
        size = len(ids)
        self.matrix = csr_matrix((costs, (rows, cols)), shape=(size, size))
        self.length_m = {k: v[1] for k, v in best.items()}
        self.cost = {k: v[0] for k, v in best.items()}

    def __len__(self) -> int:
        return len(self.node_ids)

    def largest_component(self) -> list[int]:
        """Node ids of the largest strongly connected part: from any of them a
        vehicle can reach any other and come back."""
        _, labels = connected_components(self.matrix, directed=True, connection="strong")
        biggest = np.bincount(labels).argmax()
        return [int(n) for n in self.node_ids[labels == biggest]]

    def path(self, source: int, target: int) -> list[int] | None:
        """Cheapest node path from ``source`` to ``target`` (inclusive), or None."""
        i, j = self.index[source], self.index[target]
        dist, pred = dijkstra(self.matrix, indices=i, return_predecessors=True)
        if not np.isfinite(dist[j]):
            return None
        out = [j]
        while out[-1] != i:
            out.append(int(pred[out[-1]]))
        return [int(self.node_ids[k]) for k in reversed(out)]


@dataclass(frozen=True, slots=True)
class Segments:
    """Undirected road segments over graph node indices, with the car cost (s)
    and length (m) each way; an infinite cost means closed that way."""

    a: Ints
    b: Ints
    cost_ab_s: Floats
    cost_ba_s: Floats
    length_ab_m: Floats
    length_ba_m: Floats

    @classmethod
    def of(cls, graph: RoadGraph) -> Segments:
        """One segment per node pair joined in either direction; loops dropped."""
        pairs = sorted({(min(a, b), max(a, b)) for a, b in graph.cost if a != b})
        fwd, back = pairs, [(b, a) for a, b in pairs]

        def column(keys: list[tuple[int, int]], table: dict[tuple[int, int], float]) -> Floats:
            return np.array([table.get(k, np.inf) for k in keys], dtype=np.float64)

        return cls(
            a=np.array([graph.index[a] for a, _ in pairs], dtype=np.int64),
            b=np.array([graph.index[b] for _, b in pairs], dtype=np.int64),
            cost_ab_s=column(fwd, graph.cost),
            cost_ba_s=column(back, graph.cost),
            length_ab_m=column(fwd, graph.length_m),
            length_ba_m=column(back, graph.length_m),
        )

    def drive(self, seg: Ints, start: ArrayLike, end: ArrayLike) -> tuple[Floats, Floats]:
        """Cost (s) and length (m) of driving along each segment from fraction
        ``start`` to fraction ``end`` (0 = node a, 1 = node b): zero when they
        are equal, infinite cost against a closed direction."""
        start, end = np.asarray(start, dtype=np.float64), np.asarray(end, dtype=np.float64)
        forward = end >= start
        span = np.abs(end - start)
        cost = np.where(forward, self.cost_ab_s[seg], self.cost_ba_s[seg])
        length = np.where(forward, self.length_ab_m[seg], self.length_ba_m[seg])
        moving = span > 0
        return span * np.where(moving, cost, 0.0), span * np.where(moving, length, 0.0)


@dataclass(frozen=True, slots=True)
class Routes:
    """Routed travel from many points to one incident, element-wise.

    ``eta_s`` is infinite where no road leads to the incident; ``entry`` is the
    graph node index where each route joins the search tree (-1 when it stays
    on the incident's own segment); ``lead_m`` is the length driven before
    that node (the whole route when it stays on the segment); ``offset_m`` is
    each point's straight distance to its road, not counted in the ETA.
    """

    eta_s: Floats
    entry: Ints
    lead_m: Floats
    offset_m: Floats


@dataclass(frozen=True, slots=True)
class Arrivals:
    """One reverse search to an incident snapped at fraction ``t`` of segment
    ``seg``: ``to_s`` is the cheapest time (s) from every graph node to the
    incident, ``pred`` the next node on that way (the virtual node, index
    ``len(graph)``, stands for the incident), ``last_leg_m`` the length from
    each end of the incident's segment to the incident."""

    router: Router
    seg: int
    t: float
    to_s: Floats
    pred: NDArray[np.int32]
    last_leg_m: dict[int, float]

    def routes(self, lons: ArrayLike, lats: ArrayLike) -> Routes:
        """Travel from each (lon, lat) point, degrees, snapped onto its nearest
        road segment: the cheapest of driving on to either end of that segment
        (where that direction is open) and on from there, or straight along the
        segment when the incident lies on it in an open direction."""
        return self.routes_from(self.router.snap(lons, lats))

    def routes_from(self, snaps: Snaps) -> Routes:
        """:meth:`routes` for points already snapped with this router."""
        segments = self.router.segments
        seg, s = snaps.segment, snaps.fraction
        via_b, len_b = segments.drive(seg, s, 1.0)
        via_a, len_a = segments.drive(seg, s, 0.0)
        eta_b, eta_a = via_b + self.to_s[segments.b[seg]], via_a + self.to_s[segments.a[seg]]
        own, len_own = segments.drive(seg, s, self.t)
        own = np.where(seg == self.seg, own, np.inf)
        use_b = eta_b <= eta_a
        best = np.where(use_b, eta_b, eta_a)
        stays = own <= best
        entry = np.where(use_b, segments.b[seg], segments.a[seg])
        return Routes(
            eta_s=np.minimum(best, own),
            entry=np.where(stays, -1, entry),
            lead_m=np.where(stays, len_own, np.where(use_b, len_b, len_a)),
            offset_m=snaps.offset_m,
        )

    def road_distance_m(self, routes: Routes, i: int) -> float:
        """Length (m) of route ``i`` along the road, following the search tree
        from its entry node to the incident; infinite when unreachable."""
        if not np.isfinite(routes.eta_s[i]):
            return math.inf
        total, node = float(routes.lead_m[i]), int(routes.entry[i])
        virtual, lengths = self.router.virtual, self.router.lengths_m
        while node >= 0 and node != virtual:
            nxt = int(self.pred[node])
            total += self.last_leg_m[node] if nxt == virtual else lengths[(node, nxt)]
            node = nxt
        return total


class Router:
    """Travel times by car to one point from everywhere on a :class:`RoadGraph`.

    ``nodes`` maps every graph node id to its (lon, lat), degrees. Built once
    (segments, KD-tree, reversed matrix); each :meth:`arrivals` is one Dijkstra
    from the incident over the reversed graph, so one-way streets are honoured
    in the direction units drive: towards the incident. The incident joins the
    graph as a spare virtual node whose two edges are rewritten per call under
    a lock, so no matrix is copied per call.
    """

    def __init__(
        self, graph: RoadGraph, nodes: Mapping[int, tuple[float, float]], spacing_m: float = 25.0
    ) -> None:
        lonlat = [nodes[int(n)] for n in graph.node_ids]
        self.projection = LocalProjection.around(*np.asarray(lonlat, dtype=np.float64).T)
        self.segments = Segments.of(graph)
        xy = node_positions_xy(self.projection, lonlat)
        self.index = SegmentIndex(xy, self.segments.a, self.segments.b, spacing_m)
        self.node_ids = graph.node_ids
        self.lonlat = np.asarray(lonlat, dtype=np.float64).reshape(-1, 2)
        # Forward, as driven: for searches *from* units (geo.coverage); never rewritten.
        self.forward = graph.matrix
        self.virtual = len(graph)
        self.reverse = _with_spare_row(graph.matrix.T.tocsr())
        self.lengths_m = {
            (graph.index[a], graph.index[b]): length for (a, b), length in graph.length_m.items()
        }
        self._lock = threading.Lock()

    def snap(self, lons: ArrayLike, lats: ArrayLike) -> Snaps:
        """Nearest road segment for each (lon, lat), degrees; see SegmentIndex."""
        x, y = self.projection.to_xy(np.atleast_1d(lons), np.atleast_1d(lats))
        return self.index.snap_xy(x, y)

    def route(
        self, lon: float, lat: float, lons: ArrayLike, lats: ArrayLike
    ) -> tuple[Arrivals, Routes]:
        """Arrivals at (lon, lat) and the routes from each (lons, lats) point,
        degrees. (Snapping the points in a helper thread during the search
        measured slower than this, once snapping was vectorised.)"""
        arrivals = self.arrivals(lon, lat)
        return arrivals, arrivals.routes(lons, lats)

    def arrivals(self, lon: float, lat: float) -> Arrivals:
        """One reverse search to the point (lon, lat), degrees, snapped onto
        its nearest road; a point far from any road still snaps to the nearest."""
        snap = self.snap([lon], [lat])
        seg, t = snap.segment[:1], snap.fraction[:1]
        from_a, len_a = self.segments.drive(seg, 0.0, t)
        from_b, len_b = self.segments.drive(seg, 1.0, t)
        ends = (int(self.segments.a[seg[0]]), int(self.segments.b[seg[0]]))
        with self._lock:
            self._aim_spare_row(ends, (float(from_a[0]), float(from_b[0])))
            to_s, pred = dijkstra(self.reverse, indices=self.virtual, return_predecessors=True)
        last_leg = {ends[0]: float(len_a[0]), ends[1]: float(len_b[0])}
        return Arrivals(self, int(seg[0]), float(t[0]), to_s, pred, last_leg)

    def _aim_spare_row(self, ends: tuple[int, int], costs_s: tuple[float, float]) -> None:
        """Aim the virtual node's two slots at the segment ends (sorted, as CSR
        rows are); a closed direction becomes a loop on the virtual node."""
        aims = sorted(
            (node, cost) if math.isfinite(cost) else (self.virtual, 1.0)
            for node, cost in zip(ends, costs_s, strict=True)
        )
        start = self.reverse.indptr[self.virtual]
        for slot, (node, cost) in enumerate(aims):
            self.reverse.indices[start + slot] = node
            self.reverse.data[start + slot] = cost


def _with_spare_row(matrix: csr_matrix) -> csr_matrix:
    """``matrix`` grown by one row and column, the new row holding two slots."""
    n = matrix.shape[0]
    indptr = np.append(matrix.indptr, [matrix.nnz + 2]).astype(matrix.indptr.dtype)
    indices = np.append(matrix.indices, [n, n]).astype(matrix.indices.dtype)
    data = np.append(matrix.data, [1.0, 1.0]).astype(np.float64)
    return csr_matrix((data, indices, indptr), shape=(n + 1, n + 1))
