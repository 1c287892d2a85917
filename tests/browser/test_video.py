"""Camera pictures in the browser: a simulated camera plays on the desk
through the server's proxy (the video element advances, no console error,
no request off the dashboard's host, the camera's URL in no answer), who
watched is in the audit log; a wall token gets no picture unless allowed."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from playwright.sync_api import Response

from dashboard.layout.video import GRID_MAX
from dispatchmap.settings import DashboardSettings
from feeds.camera_health import HealthLimits, check_round
from feeds.camera_sim import CameraSim
from geo.intake import NewIncident
from store import cameras
from tests.conftest import wait_until
from tests.helpers import http_status, served_dashboard
from usecases import access
from usecases import incidents as inc
from usecases.escape import escape_rows, load_foot_router
from usecases.incidents import load_router


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[CameraSim]:
    cams = CameraSim(tmp_path / "hls", ["CAM03"])
    cams.start()
    yield cams
    cams.stop()


def camera_spot(db_url: str, sim: CameraSim) -> tuple[float, float]:
    """Point CAM03 at the simulator (with credentials in its URL, as a real
    camera's may be); where it stands."""
    with psycopg.connect(db_url) as conn:
        cameras.set_stream_url(conn, "CAM03", sim.url("CAM03").replace("//", "//op:s3cret@"))
        row = conn.execute("SELECT ST_X(geom), ST_Y(geom) FROM cameras WHERE id = 'CAM03'")
        lon, lat = row.fetchone() or (0.0, 0.0)
    return float(lon), float(lat)


def test_a_simulated_camera_plays_on_the_desk(sim, page, sign_in, dashboard_url, db_url):
    # sim first: it is set up before the page and so stopped after it (a
    # camera stopped under a playing page is a 502, a console error).
    lon, lat = camera_spot(db_url, sim)
    with psycopg.connect(db_url, autocommit=True) as conn:
        # The background check finds it online (the sample's other cameras
        # near it are rtsp:// with no relay: their tiles say so, no player).
        limits = HealthLimits(stale_s=5.0)
        wait_until(lambda: check_round(conn, limits)["CAM03"].status == "online", 20)
        now = datetime.now(UTC)
        new = NewIncident("assault", 1, lon, lat, now, "by camera 3", None)
        incident_id = inc.create_incident(conn, new, "110", "110", now)
    answers: list[Response] = []

    def keep(answer: Response) -> None:
        if "/video/" in answer.url:
            answers.append(answer)

    page.on("response", keep)
    name = sign_in(page, "dispatcher")
    page.get_by_role("button", name=f"#{incident_id}").click()
    video = page.locator("#desk-video-CAM03")
    video.wait_for(timeout=30000)
    played = video.evaluate("v => v.currentTime")
    wait_until(lambda: video.evaluate("v => v.currentTime") > played + 1.0, 40, 0.5)
    assert video.evaluate("v => v.readyState") >= 2  # it has a picture to show
    page.remove_listener("response", keep)
    bodies = [a.body() for a in answers[:6]]  # the first playlists and segments
    assert bodies and not any(b"s3cret" in b or b"127.0.0.1" in b for b in bodies)
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT actor, detail->>'camera' FROM audit_log WHERE action = 'view_video' AND ok"
        ).fetchall()
        fleeing = escape_rows(conn, load_router(conn), load_foot_router(conn), incident_id)
    assert (name, "CAM03") in rows
    # Along the escape routes: the grid in the order a fleeing car or person
    # could pass the cameras, and the same cameras ringed on the map.
    assert fleeing, "no camera along the escape routes from CAM03's spot"
    page.get_by_text("along the escape routes").click()
    expected = [f"desk-tile-{r['id']}" for r in fleeing[:GRID_MAX]]
    tiles = page.locator("#desk-video .video-tile")
    wait_until(lambda: tiles.evaluate_all("ts => ts.map(t => t.id)") == expected, 30, 0.5)
    wait_until(lambda: page.locator(".escape-camera").count() == len(fleeing), 30, 0.5)


def wall_get(base: str, token: str, path: str) -> int:
    request = urllib.request.Request(base + path, headers={"Cookie": f"dm_wall={token}"})
    return http_status(request)


def test_a_wall_token_gets_pictures_only_when_allowed(db_url, sim, monkeypatch):
    camera_spot(db_url, sim)
    wait_until(lambda: http_status(sim.url("CAM03")) == 200, 15, message="CAM03 streaming")
    with psycopg.connect(db_url) as conn:
        token = access.add_wall_token(conn, "room left", "admin")
    settings = DashboardSettings(refresh_ms=500)
    with served_dashboard(db_url, settings) as base:
        assert wall_get(base, token, "/video/CAM03/index.m3u8") == 403
        assert wall_get(base, token, "/video/CAM03/index0.ts") == 403
        assert http_status(base + "/video/CAM03/index.m3u8") == 403  # nobody signed in
    monkeypatch.setenv("DM_VIDEO_WALL_PICTURES", "true")
    with served_dashboard(db_url, settings) as base:
        assert wall_get(base, token, "/video/CAM03/index.m3u8") == 200
        assert wall_get(base, token, "/video/NOPE/index.m3u8") == 404
        assert wall_get(base, token, "/video/CAM03/index.m3u8.bak") == 404  # not a segment
    with psycopg.connect(db_url) as conn:
        refused = conn.execute(
            "SELECT count(*) FROM audit_log WHERE action = 'view_video' AND NOT ok"
        ).fetchone()
    assert refused is not None and refused[0] >= 3
