"""Trails thinned for drawing, checked exactly on hand-made tracks: a straight
run at constant speed thins to its two ends, a corner and a U-turn are kept,
the tolerance is in metres (at 60°N, where a degree of longitude is half a
degree of latitude), and a trail's ends are where the unit is shown."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pytest

from geo.earth import LocalProjection
from geo.replay import Fix, Track, position_at, split_at_gaps
from geo.trails import Trail, simplify, trails_for

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
LON0, LAT0 = 24.94, 60.0
PROJ = LocalProjection(LON0, LAT0)
STALE_S = 60.0


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def fix(seconds: float, east_m: float, north_m: float) -> Fix:
    return Fix(at(seconds), *PROJ.lonlat(east_m, north_m))


def shown(track: Track, seconds: float) -> tuple[float, float]:
    p = position_at(track, at(seconds), STALE_S)
    assert p is not None
    return p.lon, p.lat


def thinned(track: Track, tolerance_m: float) -> Trail:
    return trails_for({track.unit_id: track}, STALE_S, tolerance_m)[track.unit_id]


def lonlat(f: Fix) -> tuple[float, float]:
    return f.lon, f.lat


# North-east at 10 m/s, one fix every 10 s, for 10 minutes.
STRAIGHT = [fix(s, s * 6.0, s * 8.0) for s in range(0, 601, 10)]
# 500 m east, then 500 m north: one corner.
CORNER = [fix(s, min(s, 50) * 10.0, max(s - 50, 0) * 10.0) for s in range(0, 101, 10)]


def test_a_straight_run_at_constant_speed_thins_to_its_ends() -> None:
    assert simplify(STRAIGHT, 5.0) == (STRAIGHT[0], STRAIGHT[-1])
    assert simplify(STRAIGHT, 0.01) == (STRAIGHT[0], STRAIGHT[-1])


def test_a_corner_is_kept() -> None:
    assert simplify(CORNER, 5.0) == (CORNER[0], CORNER[5], CORNER[-1])


def test_a_u_turn_keeps_its_far_end() -> None:
    # East 500 m and back 400 m along the same street: the far end lies on
    # the line through the two ends, but not between them.
    there_and_back = [fix(s, 50 * s if s <= 10 else 500 - 50 * (s - 10), 0) for s in range(19)]
    assert simplify(there_and_back, 5.0) == (
        there_and_back[0],
        there_and_back[10],
        there_and_back[-1],
    )


@pytest.mark.parametrize("across_east", [False, True])
@pytest.mark.parametrize(("off_m", "kept"), [(4.9, False), (5.1, True)])
def test_the_tolerance_is_in_metres(off_m: float, kept: bool, across_east: bool) -> None:
    # The middle fix is off_m from a 400 m line, north of a west-east line or
    # east of a south-north one: counting degrees would mix the two up.
    def point(seconds: float, along_m: float, across_m: float) -> Fix:
        return fix(seconds, across_m, along_m) if across_east else fix(seconds, along_m, across_m)

    a, middle, b = point(0, 0, 0), point(10, 200, off_m), point(20, 400, 0)
    assert simplify([a, middle, b], 5.0) == ((a, middle, b) if kept else (a, b))


def test_short_tracks_are_kept_and_the_tolerance_is_checked() -> None:
    assert simplify(STRAIGHT[:2], 5.0) == tuple(STRAIGHT[:2])
    assert simplify([], 5.0) == ()
    with pytest.raises(ValueError):
        simplify(STRAIGHT, -1.0)


def test_a_thinned_trail_ends_where_the_unit_is_shown() -> None:
    track = Track("C-01", STRAIGHT)
    trail = thinned(track, 5.0)
    assert trail.lines(at(15), at(45)) == [[shown(track, 15), shown(track, 45)]]
    assert trail.lines(at(-100), at(35)) == [[lonlat(STRAIGHT[0]), shown(track, 35)]]
    assert trail.lines(at(590), at(900)) == [[shown(track, 590), lonlat(STRAIGHT[-1])]]
    assert trail.lines(at(-100), at(0)) == []
    assert trail.lines(at(700), at(900)) == []


def test_a_thinned_trail_keeps_the_corner_between_its_ends() -> None:
    track = Track("C-02", CORNER)
    trail = thinned(track, 5.0)
    corner = lonlat(CORNER[5])
    assert trail.lines(at(25), at(75)) == [[shown(track, 25), corner, shown(track, 75)]]
    assert trail.lines(at(55), at(75)) == [[shown(track, 55), shown(track, 75)]]


# A zigzag: every fix is a turn (3 m off the line through its neighbours).
ZIGZAG = [fix(s, s * 10.0, 3.0 * (s // 10 % 2)) for s in range(0, 101, 10)]


def test_tolerance_zero_keeps_every_turn() -> None:
    assert simplify(ZIGZAG, 0.0) == tuple(ZIGZAG)
    assert simplify(ZIGZAG, 5.0) == (ZIGZAG[0], ZIGZAG[-1])


def test_unthinned_the_trail_has_every_turn_between_its_ends() -> None:
    track = Track("F-02", ZIGZAG)
    inner = [lonlat(f) for f in ZIGZAG[3:8]]
    assert thinned(track, 0.0).lines(at(25), at(75)) == [
        [shown(track, 25), *inner, shown(track, 75)]
    ]


def test_a_trail_never_crosses_a_silence() -> None:
    # Zigzag fixes at 0-20 s, silent for 280 s (beyond stale), then 300-310 s.
    track = Track("F-01", [*ZIGZAG[:3], fix(300, 300, 0), fix(310, 310, 3)])
    trail = thinned(track, 0.0)
    before, after = [lonlat(f) for f in track.fixes[:3]], [lonlat(f) for f in track.fixes[3:]]
    assert trail.lines(at(0), at(400)) == [before, after]
    # Starting inside the silence: nothing is drawn from where the unit was left.
    assert trail.lines(at(250), at(305)) == [[after[0], shown(track, 305)]]
    assert trail.lines(at(25), at(299)) == []


def test_a_station_is_thinned_at_once_as_each_piece_alone() -> None:
    # A zigzag of depths 0-10 m, so that the 5 m tolerance keeps some turns
    # and drops others, cut by a silence; next to the shapes above.
    wobbly = [fix(s, s * 10.0, (s // 10 % 2) * (s % 11)) for s in range(0, 400, 10)]
    assert 2 < len(simplify(wobbly, 5.0)) < len(wobbly)
    silent = [f for f in wobbly if not 100 < (f.fix_at - T0).total_seconds() < 250]
    tracks = {
        "A": Track("A", STRAIGHT),
        "B": Track("B", silent),
        "C": Track("C", []),
        "D": Track("D", CORNER),
        "E": Track("E", silent[:1]),
        "F": Track("F", ZIGZAG),
    }
    trails = trails_for(tracks, STALE_S, 5.0)
    assert list(trails) == list(tracks)
    for unit_id, track in tracks.items():
        pieces = [simplify(p.fixes, 5.0) for p in split_at_gaps(track, STALE_S)]
        assert trails[unit_id].pieces == pieces, unit_id
    assert len(trails["B"].pieces) == 2
    assert trails["C"].lines(at(0), at(900)) == [] == trails["E"].lines(at(0), at(900))


def reference_simplify(points: list[tuple[float, float]], tolerance_m: float) -> list[int]:
    """Textbook recursive Douglas–Peucker on (east, north) metres: kept indices."""

    def off(p: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
        dx, dy = b[0] - a[0], b[1] - a[1]
        length2 = dx * dx + dy * dy
        s = 0.0 if length2 == 0 else ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / length2
        s = min(max(s, 0.0), 1.0)
        return math.hypot(p[0] - a[0] - s * dx, p[1] - a[1] - s * dy)

    def keep(first: int, last: int) -> list[int]:
        worst, worst_m = 0, tolerance_m
        for i in range(first + 1, last):
            if (d := off(points[i], points[first], points[last])) > worst_m:
                worst, worst_m = i, d
        return keep(first, worst) + keep(worst, last)[1:] if worst else [first, last]

    return keep(0, len(points) - 1)


@pytest.mark.parametrize("seed", range(20))
def test_thinning_matches_the_textbook_recursion(seed: int) -> None:
    rng = random.Random(seed)
    east, north, heading, walk = 0.0, 0.0, rng.uniform(0, 360), []
    for _ in range(rng.randint(3, 120)):
        walk.append((east, north))
        heading += rng.gauss(0, 25)
        step = rng.choice([0.0, rng.uniform(1, 60)])  # stops too
        east += step * math.sin(math.radians(heading))
        north += step * math.cos(math.radians(heading))
    fixes = [fix(i * 5, e, n) for i, (e, n) in enumerate(walk)]
    tolerance_m = rng.choice([0.5, 5.0, 20.0])
    expected = [fixes[i] for i in reference_simplify(walk, tolerance_m)]
    assert list(simplify(fixes, tolerance_m)) == expected
