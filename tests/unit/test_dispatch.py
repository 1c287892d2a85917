"""Nearest-unit suggestions on a small hand-made road graph, checked exactly.

The graph, in metres east (x) and north (y) of the incident node 1, placed at
60°N; costs are seconds (10 m/s unless noted)::

        4 (0,300) ---------- 3 (100,300)
        |                    |
  5 --- 1 (0,0) ==one-way==> 2 (100,0)        6 --- 7   (an island)
 (-250,0)|  \\
        8    9 (180,-180): a fast road, 300 m long, 25 s

From node 2 the one-way street forces a detour 2-3-4-1: 70 s, 700 m.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from geo.dispatch import Incident, Reason, Rules, UnitSnapshot, suggest
from geo.earth import LocalProjection
from geo.routing import RoadGraph, Router
from geo.snap import SegmentIndex

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
LON0, LAT0 = 24.94, 60.17
PROJ = LocalProjection(LON0, LAT0)
NODES_M = {
    1: (0.0, 0.0),
    2: (100.0, 0.0),
    3: (100.0, 300.0),
    4: (0.0, 300.0),
    5: (-250.0, 0.0),
    6: (500.0, 500.0),
    7: (600.0, 500.0),
    8: (0.0, -250.0),
    9: (180.0, -180.0),
}
EDGES = [
    (1, 2, 10.0, -1.0, 100.0),
    (2, 3, 30.0, 30.0, 300.0),
    (3, 4, 10.0, 10.0, 100.0),
    (4, 1, 30.0, 30.0, 300.0),
    (5, 1, 25.0, 25.0, 250.0),
    (6, 7, 10.0, 10.0, 100.0),
    (1, 8, 25.0, 25.0, 250.0),
    (9, 1, 25.0, 25.0, 300.0),
]
RULES = Rules(kinds_for_type={"traffic_accident": {"car", "motorbike"}}, top_k=5)


def at(x_m: float, y_m: float) -> tuple[float, float]:
    """(lon, lat) of a point x metres east and y metres north of node 1."""
    return PROJ.lonlat(x_m, y_m)


@pytest.fixture(scope="module")
def router() -> Router:
    return Router(RoadGraph(EDGES), {n: at(*xy) for n, xy in NODES_M.items()})


def unit(
    unit_id: str,
    xy: tuple[float, float] | None,
    kind: str = "car",
    status: str = "available",
    age_s: float = 10.0,
    beat: str = "B2",
) -> UnitSnapshot:
    lon, lat = at(*xy) if xy else (None, None)
    fix_at = NOW - timedelta(seconds=age_s) if xy else None
    return UnitSnapshot(unit_id, f"C-{unit_id}", kind, status, lon, lat, fix_at, beat)


def incident(xy: tuple[float, float] = (0.0, 0.0), kind: str = "theft") -> Incident:
    return Incident("I1", *at(*xy), type=kind, priority=1)


def test_closer_unit_behind_one_way_street_ranks_below_farther_unit_with_direct_road(router):
    near, far = unit("near", NODES_M[2]), unit("far", NODES_M[5])
    got = suggest(router, incident(), [near, far], RULES, NOW)
    assert [s.unit_id for s in got.ranked] == ["far", "near"]
    first, second = got.ranked
    assert (first.eta_s, first.road_distance_m) == pytest.approx((25.0, 250.0))
    assert (second.eta_s, second.road_distance_m) == pytest.approx((70.0, 700.0))
    assert first.straight_distance_m == pytest.approx(250.0, rel=1e-3)
    assert second.straight_distance_m == pytest.approx(100.0, rel=1e-3)
    assert first.reasons == ("closest by ETA",)
    assert second.reasons == ("2nd by ETA",)
    assert (first.status, first.fix_age_s) == ("available", 10.0)


def test_unit_exactly_at_a_node_and_incident_at_a_node_cost_nothing_extra(router):
    got = suggest(router, incident(NODES_M[4]), [unit("u", NODES_M[3])], RULES, NOW)
    assert got.ranked[0].eta_s == 10.0
    assert got.ranked[0].road_distance_m == 100.0


def test_incident_mid_edge_snaps_onto_the_edge_and_counts_the_partial_edge(router):
    units = [
        unit("west", NODES_M[5]),
        unit("same-edge", (-200.0, -5.0)),
        unit("detour", NODES_M[2]),
    ]
    got = suggest(router, incident((-125.0, 10.0)), units, RULES, NOW)
    assert [s.unit_id for s in got.ranked] == ["same-edge", "west", "detour"]
    etas = [s.eta_s for s in got.ranked]
    distances = [s.road_distance_m for s in got.ranked]
    assert etas == pytest.approx([7.5, 12.5, 82.5])
    assert distances == pytest.approx([75.0, 125.0, 825.0])


def test_one_way_segment_is_driven_along_only_forwards(router):
    ahead = suggest(router, incident((80.0, 0.0)), [unit("u", (50.0, 0.0))], RULES, NOW)
    assert (ahead.ranked[0].eta_s, ahead.ranked[0].road_distance_m) == pytest.approx((3.0, 30.0))
    behind = suggest(router, incident((20.0, 0.0)), [unit("u", (50.0, 0.0))], RULES, NOW)
    # on to node 2, round 2-3-4-1, then 20 m down the one-way street
    assert (behind.ranked[0].eta_s, behind.ranked[0].road_distance_m) == pytest.approx(
        (77.0, 770.0)
    )


def test_stale_unit_is_listed_with_its_reason_and_age(router):
    units = [unit("stale", NODES_M[5], age_s=301.0), unit("edge", NODES_M[8], age_s=300.0)]
    got = suggest(router, incident(), units, RULES, NOW)
    assert [s.unit_id for s in got.ranked] == ["edge"]
    assert [(e.unit_id, e.reason, e.fix_age_s) for e in got.excluded] == [
        ("stale", Reason.STALE_FIX, 301.0)
    ]
    assert got.shortfall == "only 1 unit can be suggested (excluded: 1 stale_fix)"


def test_wrong_kind_not_available_and_no_fix_are_excluded_in_order(router):
    units = [
        unit("foot", NODES_M[5], kind="foot", status="busy"),
        unit("busy", NODES_M[5], status="busy"),
        unit("blind", None),
        unit("ok", NODES_M[8], kind="motorbike"),
    ]
    got = suggest(router, incident(kind="traffic_accident"), units, RULES, NOW)
    assert [s.unit_id for s in got.ranked] == ["ok"]
    assert [(e.unit_id, e.reason) for e in got.excluded] == [
        ("foot", "wrong_kind"),
        ("busy", "not_available"),
        ("blind", "no_fix"),
    ]


def test_a_type_missing_from_the_rules_accepts_every_kind(router):
    got = suggest(router, incident(kind="theft"), [unit("f", NODES_M[5], kind="foot")], RULES, NOW)
    assert [s.unit_id for s in got.ranked] == ["f"]


def test_unreachable_unit_is_excluded(router):
    units = [unit("island", NODES_M[6]), unit("ok", NODES_M[5])]
    got = suggest(router, incident(), units, RULES, NOW)
    assert [s.unit_id for s in got.ranked] == ["ok"]
    assert [(e.unit_id, e.reason, e.fix_age_s) for e in got.excluded] == [
        ("island", Reason.UNREACHABLE, 10.0)
    ]


@pytest.mark.parametrize(
    ("units", "kind", "expected"),
    [
        ([], "theft", "no unit available"),
        ([unit("s", NODES_M[5], age_s=900.0)], "theft", "all eligible units have stale fixes"),
        ([unit("n", None)], "theft", "no eligible unit has a position fix"),
        ([unit("f", NODES_M[5], kind="foot")], "traffic_accident", "no unit of kind car/motorbike"),
        (
            [unit("f", NODES_M[5], kind="foot"), unit("b", NODES_M[5], status="on_scene")],
            "traffic_accident",
            "no unit available",
        ),
        ([unit("i", NODES_M[7])], "theft", "no unit can reach the incident by road"),
    ],
)
def test_shortfall_names_the_step_that_left_no_unit(router, units, kind, expected):
    got = suggest(router, incident(kind=kind), units, RULES, NOW)
    assert got.ranked == []
    assert got.shortfall == expected


def test_no_shortfall_when_enough_units_and_only_top_k_are_shown(router):
    units = [unit(f"u{i}", NODES_M[n]) for i, n in enumerate((2, 3, 4, 5, 8, 9))]
    got = suggest(router, incident(), units, Rules(top_k=3), NOW)
    assert len(got.ranked) == 3
    assert got.shortfall is None


def test_ties_on_eta_go_to_the_straight_line_nearer_then_the_lower_id(router):
    units = [
        unit("A", NODES_M[9]),  # 25 s by a fast road, but 255 m away in a straight line
        unit("Z", NODES_M[5]),  # 25 s, 250 m
        unit("Y", NODES_M[5]),  # same place as Z
    ]
    got = suggest(router, incident(), units, RULES, NOW, incident_beat="B1")
    assert [s.unit_id for s in got.ranked] == ["Y", "Z", "A"]
    assert [s.eta_s for s in got.ranked] == pytest.approx([25.0, 25.0, 25.0])
    assert got.ranked[0].reasons == ("closest by ETA", "tied on ETA with C-Z, C-A")
    assert got.ranked[2].reasons == ("3rd by ETA", "tied on ETA with C-Y, C-Z")


def test_units_in_the_incidents_beat_say_so(router):
    units = [unit("home", NODES_M[2], beat="B1"), unit("away", NODES_M[5], beat="B2")]
    got = suggest(router, incident(), units, RULES, NOW, incident_beat="B1")
    assert got.ranked[1].reasons == ("2nd by ETA", "in the incident's beat")
    assert "in the incident's beat" not in got.ranked[0].reasons


def test_rules_refuse_top_k_above_candidate_k():
    with pytest.raises(ValueError, match="top_k"):
        Rules(top_k=30, candidate_k=25)


def test_snapping_uses_metres_not_degrees_at_60_north():
    # A road 0.001° of longitude east (about 55 m) and one 0.0007° of latitude
    # north (about 78 m): raw degrees would pick the northern one.
    proj = LocalProjection(LON0, LAT0)
    ends = [(LON0 + 0.001, LAT0 - 0.01), (LON0 + 0.001, LAT0 + 0.01)]
    ends += [(LON0 - 0.01, LAT0 + 0.0007), (LON0 + 0.01, LAT0 + 0.0007)]
    x, y = proj.to_xy([p[0] for p in ends], [p[1] for p in ends])
    index = SegmentIndex(np.column_stack([x, y]), np.array([0, 2]), np.array([1, 3]))
    snap = index.snap_xy(*proj.to_xy([LON0], [LAT0]))
    assert snap.segment[0] == 0
    assert snap.offset_m[0] == pytest.approx(55.3, abs=0.1)


def test_snapping_is_exact_against_brute_force_near_and_far_from_roads():
    rng = np.random.default_rng(5)
    xy = rng.uniform(0, 2000, (120, 2))
    seg_a, seg_b = rng.integers(0, 120, 300), rng.integers(0, 120, 300)
    index = SegmentIndex(xy, seg_a, seg_b, spacing_m=25.0, cell_m=20.0, reach_m=30.0)
    px, py = rng.uniform(-500, 2500, 400), rng.uniform(-500, 2500, 400)
    snap = index.snap_xy(px, py)
    every = np.arange(len(seg_a))[None, :]
    _, dist = index._project(every, px[:, None], py[:, None])
    assert snap.offset_m == pytest.approx(dist.min(axis=1))
    assert (snap.offset_m > 30.0).sum() > 100  # the KD-tree fallback was exercised
