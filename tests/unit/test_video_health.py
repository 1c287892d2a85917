"""Camera health verdicts from what a stream answers (geo/video.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from geo.video import (
    Verdict,
    hls_verdict,
    mjpeg_verdict,
    newest_segment_end,
    proxied_playlist,
    relay_url,
    segment_name_ok,
    variant_uri,
)

NOW = datetime(2026, 3, 2, 10, 0, 30, tzinfo=UTC)
LIVE = """#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:1
#EXT-X-MEDIA-SEQUENCE:41
#EXTINF:1.000000,
#EXT-X-PROGRAM-DATE-TIME:2026-03-02T10:00:27.500+0000
index41.ts
#EXTINF:1.500000,
#EXT-X-PROGRAM-DATE-TIME:2026-03-02T10:00:28.500+0000
index42.ts
"""


def test_a_playlist_whose_newest_picture_is_recent_is_online() -> None:
    assert newest_segment_end(LIVE) == datetime(2026, 3, 2, 10, 0, 30, tzinfo=UTC)
    assert hls_verdict(LIVE, NOW, stale_s=10.0) == Verdict("online")


def test_a_playlist_that_stopped_advancing_is_no_signal() -> None:
    later = NOW.replace(minute=1)
    verdict = hls_verdict(LIVE, later, stale_s=10.0)
    assert verdict == Verdict("no_signal", "newest picture 60 s old")
    assert verdict.dark


def test_without_segment_dates_the_playlist_age_decides() -> None:
    bare = "#EXTM3U\n#EXTINF:2.0,\nseg1.ts\n"
    assert hls_verdict(bare, NOW, 10.0, NOW.replace(second=0)).status == "no_signal"
    assert hls_verdict(bare, NOW, 10.0, NOW.replace(second=25)).status == "online"


def test_ended_empty_and_foreign_answers() -> None:
    assert hls_verdict(LIVE + "#EXT-X-ENDLIST\n", NOW, 10.0).status == "no_signal"
    assert hls_verdict("#EXTM3U\n#EXT-X-TARGETDURATION:1\n", NOW, 10.0).status == "no_signal"
    assert hls_verdict("<html>login</html>", NOW, 10.0) == Verdict(
        "unreachable", "not an HLS playlist"
    )


def test_master_playlist_names_its_first_variant() -> None:
    master = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000\nlow/index.m3u8\n"
    assert variant_uri(master) == "low/index.m3u8"
    assert variant_uri(LIVE) is None


def test_mjpeg_is_online_once_a_frame_starts() -> None:
    part = b"--frame\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\xff\xe0"
    assert mjpeg_verdict(part) == Verdict("online")
    assert mjpeg_verdict(b"--frame\r\n").status == "no_signal"


def test_rtsp_cameras_are_fetched_through_the_relay_when_there_is_one() -> None:
    relay = "http://127.0.0.1:8090/{camera_id}/index.m3u8"
    rtsp = "rtsp://admin:pw@10.1.2.3:554/live"
    assert relay_url("CAM07", rtsp, relay) == "http://127.0.0.1:8090/CAM07/index.m3u8"
    assert relay_url("CAM07", rtsp, None) == rtsp
    assert relay_url("CAM07", "http://10.1.2.3/x.m3u8", relay) == "http://10.1.2.3/x.m3u8"


def test_the_proxied_playlist_points_at_the_proxy_and_drops_foreign_uris() -> None:
    upstream = LIVE + "#EXTINF:1.0,\nhttp://10.0.0.9/cam/seg43.ts\n#EXTINF:1.0,\n../x/seg44.ts\n"
    out = proxied_playlist(upstream, "/video/CAM01/")
    assert "/video/CAM01/index41.ts\n" in out and "/video/CAM01/index42.ts\n" in out
    assert "10.0.0.9" not in out and "seg44" not in out
    assert out.count("#EXTINF") == 2  # each dropped URI's duration line went with it
    assert [segment_name_ok(n) for n in ("index7.ts", "a.m4s", "../a.ts", "a.ts?x=1")] == [
        True,
        True,
        False,
        False,
    ]
