import pytest

from geo.cameras import covers, rank_for
from geo.earth import destination, distance_m

CAM = (24.94, 60.17)


@pytest.mark.parametrize(
    ("bearing_to_point", "distance", "seen"),
    [
        (90.0, 50.0, True),
        (119.0, 50.0, True),
        (121.0, 50.0, False),
        (61.0, 50.0, True),
        (59.0, 50.0, False),
        (90.0, 81.0, False),
        (270.0, 10.0, False),
    ],
)
def test_a_camera_facing_east_with_60_degrees_sees_only_its_sector(
    bearing_to_point, distance, seen
):
    lon, lat = destination(*CAM, bearing_to_point, distance)
    d = distance_m(*CAM, lon, lat)
    assert covers(*CAM, 90.0, 60.0, 80.0, lon, lat, d) is seen


def test_sector_across_north_wraps_round():
    lon, lat = destination(*CAM, 355.0, 30.0)
    assert covers(*CAM, 10.0, 60.0, 80.0, lon, lat, 30.0)


def test_covering_cameras_come_first_then_the_nearest():
    point = destination(*CAM, 90.0, 40.0)
    cams = [
        {
            "id": "behind",
            "lon": CAM[0],
            "lat": CAM[1],
            "bearing_deg": 270.0,
            "fov_deg": 60.0,
            "range_m": 100.0,
            "distance_m": 40.0,
        },
        {
            "id": "far-but-facing",
            "lon": CAM[0],
            "lat": CAM[1],
            "bearing_deg": 90.0,
            "fov_deg": 60.0,
            "range_m": 100.0,
            "distance_m": 40.0 + 1e-9,
        },
    ]
    assert [c["id"] for c in rank_for(cams, *point)] == ["far-but-facing", "behind"]
