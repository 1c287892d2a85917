import math

import pytest

from geo.cameras import fov_cone
from geo.earth import bearing_deg, distance_m


def test_cone_is_closed_with_its_arc_at_range_within_the_field_of_view():
    ring = fov_cone(24.94, 60.17, 90.0, 60.0, 80.0, steps=6)
    assert ring[0] == ring[-1] == (24.94, 60.17)
    for x, y in ring[1:-1]:
        assert distance_m(24.94, 60.17, x, y) == pytest.approx(80.0, abs=0.01)
        assert 60.0 - 1e-6 <= bearing_deg(24.94, 60.17, x, y) <= 120.0 + 1e-6
    assert not math.isclose(ring[1][1], ring[-2][1])  # the arc spans north and south of east
