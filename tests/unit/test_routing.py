from geo.routing import RoadGraph


def test_one_way_street_is_honoured():
    # 1 -> 2 is one-way (reverse closed); 2 -> 1 must go round via 3.
    g = RoadGraph([(1, 2, 10.0, -1.0, 100.0), (2, 3, 10.0, 10.0, 100.0), (3, 1, 10.0, 10.0, 100.0)])
    assert g.path(1, 2) == [1, 2]
    assert g.path(2, 1) == [2, 3, 1]


def test_unreachable_target_gives_none_and_component_excludes_sinks():
    g = RoadGraph([(1, 2, 5.0, 5.0, 50.0), (2, 3, 5.0, -1.0, 50.0)])
    assert g.path(3, 1) is None
    assert sorted(g.largest_component()) == [1, 2]


def test_cheapest_parallel_edge_wins_and_zero_cost_edges_stay():
    g = RoadGraph([(1, 2, 30.0, 30.0, 300.0), (1, 2, 10.0, 10.0, 100.0), (2, 3, 0.0, 0.0, 0.0)])
    assert g.cost[(1, 2)] == 10.0
    assert g.path(1, 3) == [1, 2, 3]
