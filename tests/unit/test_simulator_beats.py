"""Available cars and motorbikes patrol their home beat; sent to an incident
they drive there wherever it is, and come back to the beat when cleared."""

from feeds.simulator import build_fleet, call_places, nodes_in_beat
from geo.earth import distance_m

# A 5x5 grid of nodes ~100 m apart, all two-way; node = row * 5 + column.
NODES = {r * 5 + c: (24.94 + c * 0.0018, 60.17 + r * 0.0009) for r in range(5) for c in range(5)}
EDGES = [(a, a + 1) for a in NODES if a % 5 != 4] + [(a, a + 5) for a in NODES if a < 20]
# The two western columns (lon 24.9400 and 24.9418).
BEAT = "POLYGON((24.939 60.169, 24.9427 60.169, 24.9427 60.175, 24.939 60.175, 24.939 60.169))"
IN_BEAT = sorted(n for n in NODES if n % 5 < 2)


def car_edges():
    return [(a, b, 10.0, 10.0, distance_m(*NODES[a], *NODES[b])) for a, b in EDGES]


def unit(unit_id, kind, beat_wkt):
    return {
        "id": unit_id,
        "call_sign": unit_id,
        "kind": kind,
        "gps_device": f"trk-{unit_id}",
        "gps_format": "native",
        "radio_device": None,
        "phone_device": None,
        "beat_wkt": beat_wkt,
    }


def fleet(*rows, seed=4):
    foot = [(a, b, ln) for a, b, _, _, ln in car_edges()]
    return build_fleet(list(rows), car_edges(), foot, NODES, seed)


def route_ends(mover, ticks=400):
    """The destination of every route the mover starts in ``ticks`` steps of 5 s."""
    ends = {mover.path[-1]}
    for _ in range(ticks):
        mover.step(5.0)
        ends.add(mover.path[-1])
    return ends


def test_an_available_car_and_motorbike_choose_destinations_inside_their_beat():
    car, bike = fleet(unit("U1", "car", BEAT), unit("U2", "motorbike", BEAT))
    for sim in (car, bike):
        assert sorted(sim.mover.destinations) == IN_BEAT
        ends = route_ends(sim.mover)
        assert ends <= set(IN_BEAT)
        assert len(ends) >= 4  # it does roam the beat, not one corner


def test_a_dispatched_car_drives_out_of_its_beat_and_returns_when_cleared():
    (car,) = fleet(unit("U1", "car", BEAT))
    scene = 24  # the far north-east corner, outside the beat
    assert car.mover.go_to(scene)
    for _ in range(200):
        car.mover.step(5.0)
    assert car.mover.parked and car.mover.path[-1] == scene
    car.mover.release()
    assert car.mover.path[-1] in IN_BEAT
    assert route_ends(car.mover) <= set(IN_BEAT) | {scene}


def test_a_car_without_a_beat_roams_the_city():
    (free,) = fleet(unit("U1", "car", None))
    assert sorted(free.mover.destinations) == sorted(NODES)
    assert nodes_in_beat(BEAT, [], NODES) == []


def test_a_beat_with_no_usable_road_is_patrolled_from_the_nearest_nodes():
    # Just east of the grid: no node inside; the eastern column is nearest.
    east = (
        "POLYGON((24.9480 60.169, 24.9500 60.169, 24.9500 60.175, 24.9480 60.175, 24.9480 60.169))"
    )
    assert nodes_in_beat(east, sorted(NODES), NODES, near=5) == [4, 9, 14, 19, 24]
    # Nearest in metres, not degrees: at 60 deg N, 0.0010 deg east is 56 m and
    # 0.0008 deg north is 89 m.
    spot = "POLYGON((24.95 60.17, 24.9501 60.17, 24.9501 60.1701, 24.95 60.1701, 24.95 60.17))"
    near = {1: (24.9511, 60.1700), 2: (24.9500, 60.1709)}  # 56 m east, 89 m north
    assert distance_m(*near[1], 24.9501, 60.17) < distance_m(*near[2], 24.95, 60.1701)
    assert nodes_in_beat(spot, [2, 1], near, near=1) == [1]


def test_calls_come_from_the_whole_city_not_one_beat():
    cars = fleet(unit("U1", "car", BEAT), unit("U2", "car", BEAT))
    assert sorted(call_places(cars)) == sorted(NODES.values())


def test_beat_patrol_is_deterministic_under_a_seed():
    def track(seed):
        (car,) = fleet(unit("U1", "car", BEAT), seed=seed)
        return [car.mover.step(5.0) for _ in range(60)]

    assert track(3) == track(3)
    assert track(3) != track(9)
