"""The simulated cameras' flapping schedule and encoder command (pure parts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from feeds.camera_sim import Flapping, Picture, check_camera_id, ffmpeg_args, flap_mode, is_down


def test_flap_modes_alternate_and_stop_at_the_flapping_count() -> None:
    assert [flap_mode(i, 3) for i in range(5)] == [
        "no_signal",
        "unreachable",
        "no_signal",
        None,
        None,
    ]


def test_each_flapping_camera_is_down_its_share_of_the_period_at_its_own_offset() -> None:
    schedule = Flapping(period_s=60.0, down_s=20.0)
    # camera 0 down 0-20 s, camera 1 (offset 30 s) down 30-50 s, of every minute
    assert [is_down(0, 2, t, schedule) for t in (0, 19.9, 20, 59.9, 60, 80)] == [
        True,
        True,
        False,
        False,
        True,
        False,
    ]
    assert [is_down(1, 2, t, schedule) for t in (0, 29.9, 30, 49.9, 50, 90)] == [
        False,
        False,
        True,
        True,
        False,
        True,
    ]
    assert not any(is_down(2, 2, t, schedule) for t in range(0, 200, 5))


def test_ffmpeg_burns_in_the_camera_id_and_utc_time_and_writes_live_hls() -> None:
    args = ffmpeg_args("CAM07", Path("/tmp/x/CAM07"), Picture(fps=5, segment_s=2), Path("/f.ttf"))
    vf = args[args.index("-vf") + 1]
    assert "text='CAM07  %{gmtime" in vf and "fontfile=/f.ttf" in vf
    assert args[args.index("-g") + 1] == "10"
    assert "program_date_time" in args[args.index("-hls_flags") + 1]
    assert args[-1] == "/tmp/x/CAM07/index.m3u8"


@pytest.mark.parametrize("bad", ["", "CAM 1", "x'y", "../etc", "a:b", "c" * 65])
def test_a_camera_id_that_could_escape_the_filter_or_the_folder_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="camera id"):
        check_camera_id(bad)
