"""The data-quality page in a real Chromium: the tables, the feed charts and
a device's drill-down (rejected messages and last fixes on the map), with no
console error and no request leaving the dashboard's host."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import psycopg

from feeds.pipeline import Limits, Message, Pipeline
from feeds.topics import Topics
from feeds.writer import Writer, ingest_batch

NOW = datetime.now(UTC).replace(microsecond=0)


def fix(device: str, seconds_ago: int, lat: float, lon: float = 24.940) -> Message:
    at = NOW - timedelta(seconds=seconds_ago)
    body = {"lat": lat, "lon": lon, "ts": at.isoformat(), "speed_kmh": 20, "acc_m": 6}
    return Message(f"dm/gps/{device}", json.dumps(body).encode(), at)


def seed(db_url: str) -> None:
    """A short track for C-01 with a few refused messages among it, and a stranger."""
    track = [
        fix("trk-c01", 600 - 30 * i, 60.1650 + 0.0004 * i, 24.940 + 0.0003 * i) for i in range(20)
    ]
    bad = [
        Message(
            "dm/gps/trk-c01", b"\x00\x01\xfe<script>alert(1)</script>", NOW - timedelta(seconds=50)
        ),
        Message("dm/gps/trk-c01", b'{"lat": 0, "lon": 0, "ts": 1}', NOW - timedelta(seconds=40)),
        fix("trk-c01", 25, 60.2400),  # a GPS jump
        track[-1],  # a redelivery: duplicate
    ]
    with psycopg.connect(db_url) as conn, conn.transaction():
        ingest_batch(
            conn,
            Pipeline(Topics(), Limits()),
            Writer(),
            [*track, *bad, fix("ghost-3", 5, 60.170), Message("dm/x/y", b"?", NOW)],
        )


def test_quality_page_and_device_drill_down(page, dashboard_url, db_url, sign_in, artifacts):
    seed(db_url)
    sign_in(page, "commander", "/quality")
    page.locator(".quality-table tr.device-row").first.wait_for(timeout=60000)
    page.locator("#feed-native .main-svg").first.wait_for(timeout=60000)  # Plotly drew
    first = page.locator(".quality-table tr.device-row").first.inner_text()
    assert first.startswith("trk-c01")  # the worst device comes first
    assert "not on roster" in page.locator("tr.device-row", has_text="ghost-3").inner_text()
    assert "On the roster with no device (0)" in page.locator("#units-without-device").inner_text()
    page.screenshot(path=str(artifacts / "quality.png"), full_page=True)

    # The table is redrawn on every refresh: a dispatched click cannot land on a stale row.
    page.locator("a.device-link", has_text="trk-c01").dispatch_event("click")
    page.get_by_text("trk-c01: last 20 fixes, last 4 rejected messages").wait_for(timeout=60000)
    rejections = page.locator(".rejections tbody tr")
    assert rejections.count() == 4
    reasons = page.locator(".rejections").inner_text()
    for reason in ("duplicate", "GPS jump", "zero fix", "undecodable"):
        assert reason in reasons
    assert "00 01 fe 3c 73 63" in reasons  # binary shown as hex, never as markup
    page.wait_for_function(
        "() => document.querySelectorAll('.quality-map .track-dot').length === 20",
        timeout=60000,
    )
    page.wait_for_timeout(500)  # let fitBounds settle before the picture
    page.screenshot(path=str(artifacts / "quality-device.png"), full_page=True)
    assert page.url.endswith("/quality#trk-c01")  # the drill-down can be bookmarked

    page.locator("#quality-search").fill("ghost")
    page.locator("#quality-search").press("Enter")
    page.wait_for_function(
        "() => document.querySelectorAll('.quality-table tr.device-row').length === 1",
        timeout=30000,
    )


def test_quality_page_is_refused_to_a_dispatcher(page, dashboard_url, sign_in):
    sign_in(page, "dispatcher", "/desk")
    page.wait_for_url(f"{dashboard_url}/desk", timeout=60000)
    response = page.request.get(f"{dashboard_url}/quality.csv")
    assert response.status == 403
