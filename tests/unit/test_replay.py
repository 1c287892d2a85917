"""Replay on hand-made tracks, checked exactly: where a unit is shown at any
moment (interpolated in proportion to real time along the great circle), when
it is stale, its trail, and its status at a moment of the event log.

Tracks are built in metres east/north of a point at 60°N, where a degree of
longitude is half a degree of latitude, so a mix-up of the two would show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from geo.earth import LocalProjection, distance_m
from geo.replay import (
    Fix,
    StatusEvent,
    StatusTimeline,
    Track,
    TrackPoint,
    great_circle_point,
    position_at,
    position_between,
    segment_between,
    snapshot_at,
    split_at_gaps,
    status_at,
    statuses_at,
)

T0 = datetime(2026, 11, 28, 23, 59, 0, tzinfo=UTC)
LON0, LAT0 = 24.94, 60.0
STALE_S = 60.0
PROJ = LocalProjection(LON0, LAT0)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def fix(seconds: float, east_m: float, north_m: float, **extra: float) -> Fix:
    return Fix(at(seconds), *PROJ.lonlat(east_m, north_m), **extra)


def dist_m(a: Fix | TrackPoint, b: Fix | TrackPoint) -> float:
    return distance_m(a.lon, a.lat, b.lon, b.lat)


# A patrol car: north-east for 10 s, on to the east for 20 s, then silent for
# 300 s (beyond the stale threshold), then one last fix.
CAR = Track(
    "C-01",
    [
        fix(0, 0, 0, speed_kmh=36.0, heading_deg=350.0),
        fix(10, 60, 80, speed_kmh=54.0, heading_deg=10.0),
        fix(30, 360, 80),
        fix(330, 400, 100),
    ],
)


def test_halfway_in_time_is_halfway_along_the_great_circle() -> None:
    a, b = CAR.fixes[0], CAR.fixes[1]
    p = position_at(CAR, at(5), STALE_S)
    assert p is not None and p.interpolated and not p.stale
    assert dist_m(a, b) == pytest.approx(100.0, abs=0.01)
    assert dist_m(a, p) == pytest.approx(dist_m(a, b) / 2, abs=1e-6)
    assert dist_m(p, b) == pytest.approx(dist_m(a, b) / 2, abs=1e-6)
    assert dist_m(a, p) + dist_m(p, b) == pytest.approx(dist_m(a, b), abs=1e-6)  # on the line


@pytest.mark.parametrize("seconds", [0.5, 2.5, 7.5, 9.999])
def test_distance_along_is_proportional_to_time(seconds: float) -> None:
    a, b = CAR.fixes[0], CAR.fixes[1]
    p = position_at(CAR, at(seconds), STALE_S)
    assert p is not None
    assert dist_m(a, p) == pytest.approx(dist_m(a, b) * seconds / 10, abs=1e-6)
    assert dist_m(a, p) + dist_m(p, b) == pytest.approx(dist_m(a, b), abs=1e-6)


def test_along_a_meridian_the_midpoint_is_the_mean_latitude() -> None:
    lon, lat = great_circle_point(24.94, 60.0, 24.94, 60.001, 0.5)
    assert lon == pytest.approx(24.94, abs=1e-12)
    assert lat == pytest.approx(60.0005, abs=1e-12)


def test_speed_blends_linearly_and_heading_turns_the_short_way() -> None:
    p = position_at(CAR, at(5), STALE_S)
    assert p is not None
    assert p.speed_kmh == pytest.approx(45.0)
    assert p.heading_deg == pytest.approx(0.0, abs=1e-9) or p.heading_deg == pytest.approx(360.0)
    later = position_at(CAR, at(20), STALE_S)  # the fix at 30 s has no speed
    assert later is not None and later.speed_kmh is None and later.heading_deg == 10.0


def test_on_a_fix_the_unit_is_exactly_there() -> None:
    p = position_at(CAR, at(10), STALE_S)
    assert p is not None and not p.interpolated and not p.stale
    assert (p.lon, p.lat, p.fix_at, p.age_s) == (CAR.fixes[1].lon, CAR.fixes[1].lat, at(10), 0.0)


def test_before_the_first_fix_there_is_nothing() -> None:
    assert position_at(CAR, at(-0.001), STALE_S) is None
    assert position_at(Track("X", []), at(0), STALE_S) is None


def test_a_gap_longer_than_stale_is_not_interpolated() -> None:
    last = CAR.fixes[2]  # 30 s, then nothing until 330 s
    fresh = position_at(CAR, at(90), STALE_S)  # exactly stale_s after it: still fresh
    stale = position_at(CAR, at(90.001), STALE_S)
    deep = position_at(CAR, at(329), STALE_S)
    for p in (fresh, stale, deep):
        assert p is not None and not p.interpolated
        assert (p.lon, p.lat, p.fix_at) == (last.lon, last.lat, last.fix_at)
    assert fresh is not None and not fresh.stale
    assert stale is not None and stale.stale and deep is not None and deep.stale
    back = position_at(CAR, at(330), STALE_S)
    assert back is not None and not back.stale and back.lon == CAR.fixes[3].lon


def test_a_gap_of_exactly_stale_is_interpolated() -> None:
    track = Track("F-01", [fix(0, 0, 0), fix(60, 0, 120)])
    p = position_at(track, at(30), STALE_S)
    assert p is not None and p.interpolated and not p.stale
    assert dist_m(track.fixes[0], p) == pytest.approx(60.0, abs=1e-6)


@pytest.mark.parametrize(
    ("seconds", "stale"), [(330, False), (331, False), (390, False), (390.5, True), (9999, True)]
)
def test_after_the_last_fix_it_stays_there_and_turns_stale(seconds: float, stale: bool) -> None:
    p = position_at(CAR, at(seconds), STALE_S)
    assert p is not None and not p.interpolated
    assert (p.lon, p.lat, p.stale) == (CAR.fixes[3].lon, CAR.fixes[3].lat, stale)
    assert p.age_s == seconds - 330


def test_a_track_sorts_its_fixes_and_keeps_one_per_instant() -> None:
    track = Track("M-01", [fix(10, 10, 0), fix(0, 0, 0), fix(10, 99, 99)])
    assert [f.fix_at for f in track.fixes] == [at(0), at(10)]
    assert track.fixes[1] == fix(10, 10, 0)


def test_position_between_matches_position_at() -> None:
    for seconds in (0, 3, 10, 29, 30, 31, 100, 330, 400):
        i = CAR.index_at(at(seconds))
        nxt = CAR.fixes[i + 1] if i + 1 < len(CAR) else None
        expected = position_at(CAR, at(seconds), STALE_S)
        assert position_between(CAR.fixes[i], nxt, at(seconds), STALE_S) == expected


def test_trail_has_interpolated_ends_and_the_fixes_between() -> None:
    trail = segment_between(CAR, at(5), at(20), STALE_S)
    assert [f.fix_at for f in trail.fixes] == [at(5), at(10), at(20)]
    assert trail.fixes[1] == CAR.fixes[1]
    start = position_at(CAR, at(5), STALE_S)
    end = position_at(CAR, at(20), STALE_S)
    assert start is not None and end is not None
    assert (trail.fixes[0].lon, trail.fixes[0].lat) == (start.lon, start.lat)
    assert (trail.fixes[-1].lon, trail.fixes[-1].lat) == (end.lon, end.lat)


def test_trail_before_the_first_fix_and_after_the_last() -> None:
    early = segment_between(CAR, at(-100), at(10), STALE_S)
    assert [f.fix_at for f in early.fixes] == [at(0), at(10)]
    late = segment_between(CAR, at(320), at(500), STALE_S)
    assert [f.fix_at for f in late.fixes] == [at(320), at(330), at(500)]
    assert late.fixes[0].lon == CAR.fixes[2].lon  # inside the gap: at the last fix
    assert late.fixes[-1].lon == CAR.fixes[3].lon
    assert len(segment_between(CAR, at(-100), at(-1))) == 0
    assert len(segment_between(CAR, at(5), at(5))) == 1
    with pytest.raises(ValueError):
        segment_between(CAR, at(5), at(4))


def test_trail_is_cut_at_gaps() -> None:
    pieces = split_at_gaps(segment_between(CAR, at(0), at(380), STALE_S), STALE_S)
    assert [[f.fix_at for f in p.fixes] for p in pieces] == [
        [at(0), at(10), at(30)],
        [at(330), at(380)],
    ]


def test_snapshot_of_the_station() -> None:
    walker = Track("F-02", [fix(100, 0, 0), fix(110, 0, 14)])
    snap = snapshot_at({"C-01": CAR, "F-02": walker}, at(105), STALE_S)
    assert set(snap) == {"C-01", "F-02"}
    assert snap["C-01"].stale and snap["F-02"].interpolated
    assert dist_m(walker.fixes[0], snap["F-02"]) == pytest.approx(7.0, abs=1e-6)
    assert set(snapshot_at([CAR, walker], at(50), STALE_S)) == {"C-01"}


EVENTS = [
    StatusEvent(at(0), "C-01", "available"),
    StatusEvent(at(60), "C-01", "dispatched"),
    StatusEvent(at(75), "C-01", "acknowledged"),
    StatusEvent(at(75), "C-01", "en_route"),  # same instant: the later row wins
    StatusEvent(at(400), "C-01", "on_scene"),
    StatusEvent(at(30), "F-01", "busy"),
]


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(-1, None), (0, "available"), (59.9, "available"), (60, "dispatched"), (75, "en_route")],
)
def test_status_at_a_moment(seconds: float, expected: str | None) -> None:
    assert status_at(EVENTS, "C-01", at(seconds)) == expected
    if seconds != 75:  # distinct instants: the order of the log does not matter
        assert status_at(reversed(EVENTS), "C-01", at(seconds)) == expected


def test_statuses_of_the_station_at_a_moment() -> None:
    assert statuses_at(EVENTS, at(10)) == {"C-01": "available"}
    assert statuses_at(EVENTS, at(500)) == {"C-01": "on_scene", "F-01": "busy"}
    timeline = StatusTimeline(EVENTS)
    since = timeline.event_at("C-01", at(399))
    assert since is not None and since.at == at(75)
    assert timeline.event_at("nobody", at(500)) is None
