"""Snapping points onto road segments, in locally projected metres.

Degrees are not metres: at 60°N a degree of longitude is about half a degree of
latitude, so a KD-tree on raw lon/lat picks the wrong nearest road. Points and
nodes are projected onto a plane tangent at the network's middle
(equirectangular; under 0.1 % error across a 30 km city), and the KD-tree holds
points sampled along every segment, so a long segment is found from its middle
as well as from its ends. Pure numpy/scipy: no database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from geo.earth import LocalProjection

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Snaps:
    """Where points meet the road: ``segment`` indexes the segments the index
    was built with; ``fraction`` is 0 at the segment's first node and 1 at its
    second; ``offset_m`` is the straight distance from the point to the road."""

    segment: Ints
    fraction: Floats
    offset_m: Floats


class SegmentIndex:
    """Nearest straight segment to any point, exactly.

    ``xy`` holds node positions in metres (n×2); segment i joins nodes
    ``seg_a[i]`` and ``seg_b[i]``. Two structures, both built once:

    - a grid of ``cell_m`` cells, each listing the segments that pass within
      ``reach_m`` of it. A point whose best listed segment is within
      ``reach_m`` is proven: any nearer segment would pass within ``reach_m``
      of the point, so it would be listed. All numpy, no per-point Python,
      and it answers nearly every GPS fix (they lie a few metres off a road).
    - for the rest (far off-road, outside the grid), a KD-tree of samples at
      most ``spacing_m`` apart along every segment. A point's k nearest samples
      name candidates; the answer is proven when the best one plus half a
      sample gap is no farther than the k-th sample; unproven points are asked
      again with a larger k (``tiers``), the last few by a ball search.

    Ties between equally near segments go to either one.
    """

    def __init__(
        self,
        xy: Floats,
        seg_a: Ints,
        seg_b: Ints,
        spacing_m: float = 25.0,
        tiers: tuple[int, ...] = (4, 32),
        cell_m: float = 20.0,
        reach_m: float = 30.0,
    ) -> None:
        if len(seg_a) == 0:
            raise ValueError("a road network needs at least one segment")
        self.xy, self.seg_a, self.seg_b = xy, seg_a, seg_b
        length_m = np.hypot(*(xy[seg_b] - xy[seg_a]).T)
        pieces = np.maximum(1, np.ceil(length_m / spacing_m)).astype(np.int64)
        self.sample_segment = np.repeat(np.arange(len(seg_a)), pieces)
        first = np.cumsum(pieces) - pieces
        step = np.arange(len(self.sample_segment)) - np.repeat(first, pieces)
        t = (step + 0.5) / pieces[self.sample_segment]
        a, b = xy[seg_a[self.sample_segment]], xy[seg_b[self.sample_segment]]
        self.tree = cKDTree(a + (b - a) * t[:, None])
        self.half_gap_m = float((length_m / pieces).max()) / 2
        self.tiers = tiers
        self.grid = _Grid(xy[seg_a], xy[seg_b], cell_m, reach_m)

    def snap_xy(self, x: Floats, y: Floats) -> Snaps:
        """Snap points given in projected metres; empty arrays give empty snaps."""
        seg = np.zeros(len(x), dtype=np.int64)
        t, dist = np.zeros(len(x)), np.zeros(len(x))
        todo = np.arange(len(x))
        if len(todo):
            proven = self._nearest_in_cell(x, y, (seg, t, dist))
            todo = todo[~proven]
        for k in self.tiers:
            if len(todo) == 0:
                break
            proven = self._nearest_of_k(x, y, todo, min(k, self.tree.n), (seg, t, dist))
            todo = todo[~proven]
        for i in todo:
            seg[i], t[i], dist[i] = self._settle(x[i], y[i], dist[i])
        return Snaps(seg, t, dist)

    def _nearest_in_cell(
        self, x: Floats, y: Floats, out: tuple[Ints, Floats, Floats]
    ) -> NDArray[np.bool_]:
        """Best segment listed in each point's grid cell, written into ``out``;
        returns which answers are proven (within reach)."""
        rows, candidates = self.grid.candidates(x, y)
        proven = np.zeros(len(x), dtype=bool)
        if len(rows) == 0:
            return proven
        t, dist = self._project(candidates, x[rows], y[rows])
        # rows come in runs (one per point): the first minimum of each run wins
        starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
        run_min = np.minimum.reduceat(dist, starts)
        hits = np.flatnonzero(dist == np.repeat(run_min, np.diff(np.r_[starts, len(rows)])))
        first = hits[np.r_[True, rows[hits][1:] != rows[hits][:-1]]]
        found = rows[first]
        out[0][found], out[1][found], out[2][found] = candidates[first], t[first], dist[first]
        proven[found] = dist[first] <= self.grid.reach_m
        return proven

    def _nearest_of_k(
        self, x: Floats, y: Floats, rows: Ints, k: int, out: tuple[Ints, Floats, Floats]
    ) -> NDArray[np.bool_]:
        """Best segment among the k nearest samples' for ``rows``, written into
        ``out`` (segment, fraction, distance); returns which answers are proven."""
        near_m, sample = self.tree.query(np.column_stack([x[rows], y[rows]]), k=k)
        candidates = self.sample_segment[sample.reshape(len(rows), -1)]
        t, dist = self._project(candidates, x[rows, None], y[rows, None])
        best = dist.argmin(axis=1)
        pick = np.arange(len(rows)), best
        out[0][rows], out[1][rows], out[2][rows] = candidates[pick], t[pick], dist[pick]
        if k >= self.tree.n:
            return np.ones(len(rows), dtype=bool)
        return dist[pick] + self.half_gap_m <= near_m.reshape(len(rows), -1)[:, -1]

    def _settle(self, x: float, y: float, bound_m: float) -> tuple[int, float, float]:
        """Exact answer for one point from every sample within reach."""
        found = self.tree.query_ball_point([x, y], r=bound_m + self.half_gap_m * 1.000001)
        candidates = np.unique(self.sample_segment[np.asarray(found, dtype=np.int64)])
        t, dist = self._project(candidates[None, :], np.array([[x]]), np.array([[y]]))
        best = int(dist[0].argmin())
        return int(candidates[best]), float(t[0, best]), float(dist[0, best])

    def _project(self, segs: Ints, x: Floats, y: Floats) -> tuple[Floats, Floats]:
        """Fraction along each segment of the nearest point to (x, y), and the
        distance to it; a zero-length segment gives fraction 0."""
        ax, ay = self.xy[self.seg_a[segs], 0], self.xy[self.seg_a[segs], 1]
        dx, dy = self.xy[self.seg_b[segs], 0] - ax, self.xy[self.seg_b[segs], 1] - ay
        len2 = dx * dx + dy * dy
        raw = ((x - ax) * dx + (y - ay) * dy) / np.where(len2 > 0, len2, 1.0)
        t = np.clip(np.where(len2 > 0, raw, 0.0), 0.0, 1.0)
        return t, np.hypot(x - ax - t * dx, y - ay - t * dy)


def node_positions_xy(projection: LocalProjection, lonlat: Sequence[tuple[float, float]]) -> Floats:
    """(lon, lat) pairs in degrees to an n×2 array of projected metres."""
    arr = np.asarray(lonlat, dtype=np.float64).reshape(-1, 2)
    x, y = projection.to_xy(arr[:, 0], arr[:, 1])
    return np.column_stack([x, y])


class _Grid:
    """Segments (given by end points ``a``, ``b``, n×2 metres) bucketed by the
    ``cell_m`` cells that their bounding box grown by ``reach_m`` covers."""

    def __init__(self, a: Floats, b: Floats, cell_m: float, reach_m: float) -> None:
        self.cell_m, self.reach_m = cell_m, reach_m
        self.origin = np.minimum(a, b).min(axis=0) - reach_m
        low = ((np.minimum(a, b) - reach_m - self.origin) // cell_m).astype(np.int64)
        high = ((np.maximum(a, b) + reach_m - self.origin) // cell_m).astype(np.int64)
        self.shape = (int(high[:, 0].max()) + 1, int(high[:, 1].max()) + 1)
        span = high - low + 1
        count = span[:, 0] * span[:, 1]
        seg = np.repeat(np.arange(len(a)), count)
        k = np.arange(len(seg)) - np.repeat(np.cumsum(count) - count, count)
        cx, cy = low[seg, 0] + k // span[seg, 1], low[seg, 1] + k % span[seg, 1]
        cell = cx * self.shape[1] + cy
        order = np.argsort(cell, kind="stable")
        self.members = seg[order].astype(np.int32)
        sizes = np.bincount(cell, minlength=self.shape[0] * self.shape[1])
        self.start = np.concatenate([[0], np.cumsum(sizes)])

    def candidates(self, x: Floats, y: Floats) -> tuple[Ints, Ints]:
        """(row, segment) pairs: for each point, the segments of its cell;
        points outside the grid get none."""
        cx = np.floor((x - self.origin[0]) / self.cell_m).astype(np.int64)
        cy = np.floor((y - self.origin[1]) / self.cell_m).astype(np.int64)
        inside = (cx >= 0) & (cx < self.shape[0]) & (cy >= 0) & (cy < self.shape[1])
        cell = np.where(inside, cx * self.shape[1] + cy, 0)
        begin = self.start[cell]
        count = np.where(inside, self.start[cell + 1] - begin, 0)
        rows = np.repeat(np.arange(len(x)), count)
        offset = np.arange(len(rows)) - np.repeat(np.cumsum(count) - count, count)
        return rows, self.members[np.repeat(begin, count) + offset].astype(np.int64)
