"""In-process road graphs for routing (scipy.sparse.csgraph), built once from
PostGIS rows. Pure: no database access here, so it tests on hand-made graphs.

Costs are seconds (car, honouring one-way streets) or metres (foot); an edge
cost below zero means "closed in that direction", as in pgRouting.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra


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
