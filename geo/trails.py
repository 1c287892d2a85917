"""Trails: each unit's recent past drawn as lines, thinned once per window.

The replay player redraws every unit's trail at every tick. A :class:`Trail`
is a track cut where two fixes are more than ``gap_s`` apart (no line across
a silence, as :func:`geo.replay.split_at_gaps`) with each piece thinned once
by Douglas–Peucker in metres (:func:`simplify`); a tick then only slices it,
its two ends exactly where :func:`geo.replay.position_at` shows the unit.

:func:`trails_for` thins a whole station in one pass: the recursion runs
level by level over every piece of every unit at once, vectorised with
numpy, instead of a Python loop per fix (seconds for a 30-minute window of
1,000 units). Distances are metres on a local equirectangular projection
about each piece's first fix: exact enough over the few kilometres of one.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from datetime import datetime

import numpy as np
from numpy.typing import NDArray

from geo.earth import east_north_m
from geo.replay import Fix, Track, position_at

Floats = NDArray[np.float64]
Ints = NDArray[np.intp]


TRAIL_TOLERANCE_M = 5.0
"""Metres a drawn trail may be thinned by: about 2 px at zoom 15 at 60°N, never seen."""


class Trail:
    """One unit's track with its pieces thinned (see :func:`trails_for`)."""

    __slots__ = ("_pieces", "_starts", "_times", "gap_s", "track")

    def __init__(self, track: Track, gap_s: float, pieces: Sequence[Sequence[Fix]]) -> None:
        """``pieces``: the thinned pieces of ``track``, each in time order."""
        self.track, self.gap_s = track, gap_s
        self._pieces = [tuple(piece) for piece in pieces]
        self._times = [[f.fix_at for f in piece] for piece in self._pieces]
        self._starts = [times[0] for times in self._times]

    @property
    def pieces(self) -> list[tuple[Fix, ...]]:
        """The thinned pieces, oldest first (no two joined across a gap)."""
        return list(self._pieces)

    def lines(self, t1: datetime, t2: datetime) -> list[list[tuple[float, float]]]:
        """The trail from ``t1`` to ``t2`` as (lon, lat) lines, one per piece
        of at least two points: ends exactly where :func:`position_at` puts
        the unit (interpolated on the full track), the kept fixes between."""
        lines = []
        for i in range(max(bisect_right(self._starts, t1) - 1, 0), bisect_right(self._starts, t2)):
            piece, times = self._pieces[i], self._times[i]
            begin, end = max(t1, times[0]), min(t2, times[-1])
            if begin >= end:
                continue
            inner = piece[bisect_right(times, begin) : bisect_left(times, end)]
            ends = [position_at(self.track, t, self.gap_s) for t in (begin, end)]
            points = [ends[0], *inner, ends[1]]
            lines.append([(p.lon, p.lat) for p in points if p is not None])
        return lines


def trails_for(tracks: Mapping[str, Track], gap_s: float, tolerance_m: float) -> dict[str, Trail]:
    """Unit id -> its :class:`Trail`: each track cut where two fixes are more
    than ``gap_s`` seconds apart, each piece thinned with ``tolerance_m``."""
    if tolerance_m < 0:
        raise ValueError("tolerance_m must be >= 0")
    fixes = [f for track in tracks.values() for f in track.fixes]
    if not fixes:
        return {u: Trail(track, gap_s, []) for u, track in tracks.items()}
    ends = np.cumsum([len(track) for track in tracks.values()]) - 1
    piece_starts, piece_ends = _pieces(fixes, ends, gap_s)
    kept = np.flatnonzero(_douglas_peucker(fixes, piece_starts, piece_ends, tolerance_m))
    # Each piece's kept fixes are a slice of ``kept``; each unit's pieces a run.
    kept_from = np.searchsorted(kept, piece_starts).tolist()
    kept_to = np.searchsorted(kept, piece_ends, side="right").tolist()
    unit_pieces = np.searchsorted(piece_ends, ends, side="right").tolist()
    trails, first = {}, 0
    kept_fixes = [fixes[i] for i in kept.tolist()]
    for (unit_id, track), last in zip(tracks.items(), unit_pieces, strict=True):
        pieces = [kept_fixes[kept_from[p] : kept_to[p]] for p in range(first, last)]
        trails[unit_id] = Trail(track, gap_s, pieces)
        first = last
    return trails


def _pieces(fixes: Sequence[Fix], ends: Ints, gap_s: float) -> tuple[Ints, Ints]:
    """First and last index of each piece of the tracks laid end to end
    (``ends``: each track's last index): a piece ends with its track or
    before a silence longer than ``gap_s``."""
    seconds = np.array([f.fix_at.timestamp() for f in fixes])
    cut = np.diff(seconds, append=math.inf) > gap_s  # cut[i]: a piece ends at fix i
    cut[ends[ends >= 0]] = True
    piece_ends = np.flatnonzero(cut)
    return np.concatenate(([0], piece_ends[:-1] + 1)), piece_ends


def simplify(fixes: Sequence[Fix], tolerance_m: float) -> tuple[Fix, ...]:
    """``fixes`` thinned for drawing (Douglas–Peucker in metres): the first
    and last are kept, and a fix only when it lies more than ``tolerance_m``
    from the segment between the fixes kept around it. A straight run thins
    to its two ends whatever its speed; a corner is kept, and a U-turn's far
    end. Times are ignored (a stop thins away); 0 keeps every turn."""
    if tolerance_m < 0:
        raise ValueError("tolerance_m must be >= 0")
    if len(fixes) < 3:
        return tuple(fixes)
    starts, ends = np.array([0]), np.array([len(fixes) - 1])
    keep = _douglas_peucker(fixes, starts, ends, tolerance_m)
    return tuple(f for f, kept in zip(fixes, keep, strict=True) if kept)


def _douglas_peucker(
    fixes: Sequence[Fix], starts: Ints, ends: Ints, tolerance_m: float
) -> NDArray[np.bool_]:
    """Which fixes to keep when each piece ``starts[i]..ends[i]`` (inclusive)
    is thinned. Each round splits every span still open at its farthest fix,
    the first of equals, as the recursive algorithm would."""
    x, y = _metres(fixes, starts, ends)
    keep = np.zeros(len(fixes), dtype=bool)
    keep[starts] = keep[ends] = True
    first, last = starts[ends - starts >= 2], ends[ends - starts >= 2]
    while len(first):
        inner = last - first - 1
        span = np.repeat(np.arange(len(first)), inner)
        offsets = np.concatenate(([0], np.cumsum(inner)[:-1]))
        at = first[span] + 1 + np.arange(len(span)) - offsets[span]
        a, b = first[span], last[span]
        off_m = _off_segment_m(x[at], y[at], x[a], y[a], x[b], y[b])
        worst_m = np.maximum.reduceat(off_m, offsets)
        firsts = np.flatnonzero(off_m == worst_m[span])
        _, first_of_span = np.unique(span[firsts], return_index=True)
        worst = at[firsts[first_of_span]]
        split = worst_m > tolerance_m
        keep[worst[split]] = True
        first = np.concatenate((first[split], worst[split]))
        last = np.concatenate((worst[split], last[split]))
        first, last = first[last - first >= 2], last[last - first >= 2]
    return keep


def _metres(fixes: Sequence[Fix], starts: Ints, ends: Ints) -> tuple[Floats, Floats]:
    """East and north metres of each fix from the first fix of its piece."""
    lon = np.array([f.lon for f in fixes])
    lat = np.array([f.lat for f in fixes])
    counts = ends - starts + 1
    lon0, lat0 = np.repeat(lon[starts], counts), np.repeat(lat[starts], counts)
    return east_north_m(lon, lat, lon0, lat0)


def _off_segment_m(
    px: Floats, py: Floats, ax: Floats, ay: Floats, bx: Floats, by: Floats
) -> Floats:
    # The distance to the segment, not to its line: a U-turn's far end lies
    # on the line back and must be kept.
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    along = ((px - ax) * dx + (py - ay) * dy) / np.where(length2 > 0, length2, 1.0)
    along = np.clip(np.where(length2 > 0, along, 0.0), 0.0, 1.0)
    return np.hypot(px - ax - along * dx, py - ay - along * dy)
