"""Simulated cameras really stream: live HLS on 127.0.0.1 whose playlist
advances, and a camera taken down is either stale (no signal) or 404."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feeds.camera_sim import CameraSim
from tests.conftest import wait_until


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[CameraSim]:
    cams = CameraSim(tmp_path / "hls", ["CAM01", "CAM02"])
    cams.start()
    yield cams
    cams.stop()


def playlist(url: str) -> str:
    """The playlist's text, or ``HTTP <code>``."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return str(response.read().decode())
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"


def live(url: str) -> str | None:
    """The playlist once it lists a segment, else None."""
    text = playlist(url)
    return text if "#EXT-X-PROGRAM-DATE-TIME" in text else None


def last_segment_at(text: str) -> datetime:
    stamps = re.findall(r"#EXT-X-PROGRAM-DATE-TIME:(\S+)", text)
    return datetime.strptime(stamps[-1], "%Y-%m-%dT%H:%M:%S.%f%z")


def test_cameras_stream_live_hls_with_fresh_segments(sim: CameraSim) -> None:
    url = sim.url("CAM01")
    assert url.startswith("http://127.0.0.1:")
    first = str(wait_until(lambda: live(url), 15, message="a playlist"))
    assert abs(datetime.now(UTC) - last_segment_at(first)) < timedelta(seconds=5)
    wait_until(lambda: last_segment_at(live(url) or first) > last_segment_at(first), 10)
    segment = re.findall(r"^(index\d+\.ts)$", first, re.M)[-1]
    with urllib.request.urlopen(url.replace("index.m3u8", segment), timeout=2) as response:
        assert response.headers["Content-Type"] == "video/mp2t"
        assert response.read(1) == b"\x47"  # MPEG-TS sync byte


def test_a_camera_taken_down_is_stale_or_unreachable_and_comes_back(sim: CameraSim) -> None:
    one, two = sim.url("CAM01"), sim.url("CAM02")
    wait_until(lambda: live(one) and live(two), 15, message="both playlists")
    sim.stop_camera("CAM01", "no_signal")
    sim.stop_camera("CAM02", "unreachable")
    stale = live(one)
    assert stale is not None
    assert playlist(two) == "HTTP 404"
    sim.start_camera("CAM02")
    back = str(wait_until(lambda: live(two), 15, message="CAM02 back"))
    assert abs(datetime.now(UTC) - last_segment_at(back)) < timedelta(seconds=5)
    assert playlist(one) == stale
