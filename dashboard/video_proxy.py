"""The server's video proxy: a browser watches a camera at
``/video/<camera>/index.m3u8`` and its segments, fetched here from the
camera (or the RTSP relay), so camera URLs and their credentials never reach
a browser. It needs the ``view_video`` right; a wall token only when
``DM_VIDEO_WALL_PICTURES`` allows it. Who watched which camera when goes to
the audit log (once a minute per viewer and camera while they watch).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from urllib.parse import urljoin

import flask
from psycopg_pool import ConnectionPool
from werkzeug.exceptions import BadGateway, NotFound

from dashboard.auth import current_user, refuse, wall_token_held
from feeds.camera_health import open_stream
from feeds.camera_sim import CAMERA_ID
from geo.video import proxied_playlist, relay_url, segment_name_ok, variant_uri
from store import cameras
from usecases import access

log = logging.getLogger(__name__)
AUDIT_EVERY_S = 60.0
FETCH_TIMEOUT_S = 5.0
_PLAYLIST_MAX_BYTES = 1 << 20


class _Watchers:
    """When each (viewer, camera) was last written to the audit log."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: dict[tuple[str, str], float] = {}

    def due(self, viewer: str, camera_id: str) -> bool:
        now = time.monotonic()
        with self._lock:
            if now - self._last.get((viewer, camera_id), -AUDIT_EVERY_S) < AUDIT_EVERY_S:
                return False
            self._last[(viewer, camera_id)] = now
            return True


def viewer(pool: ConnectionPool, wall_pictures: bool, camera_id: str) -> str:
    """Who is watching: a signed-in user with ``view_video``, or ``wall`` for
    a wall token when allowed; otherwise an audited 403."""
    user = current_user(pool)
    if user is not None and user.may("view_video"):
        return user.name
    if user is None and wall_pictures and wall_token_held(pool):
        return "wall"
    refuse(pool, "view_video", {"camera_id": camera_id}, "pictures need the view_video right")


def _upstream(pool: ConnectionPool, camera_id: str, relay: str | None) -> str:
    if not CAMERA_ID.match(camera_id):
        raise NotFound("no such camera")
    with pool.connection() as conn:
        url = cameras.camera_stream(conn, camera_id)
    if url is None:
        raise NotFound("no such camera")
    return relay_url(camera_id, url, relay)


def _media_playlist(url: str) -> tuple[str, str]:
    """(media playlist text, its URL), following a master playlist's first variant."""
    try:
        with open_stream(url, FETCH_TIMEOUT_S) as answer:
            text = answer.read(_PLAYLIST_MAX_BYTES).decode("utf-8", "replace")
        variant = variant_uri(text)
        if variant is None:
            return text, url
        return _media_playlist(urljoin(url, variant))
    except OSError as exc:
        log.warning("camera playlist: %s", type(exc).__name__ + ": " + str(exc)[:200])
        raise BadGateway("the camera does not answer") from None


def install(server: flask.Flask, pool: ConnectionPool, relay: str | None, wall: bool) -> None:
    """Add the proxy's two routes to ``server``."""
    watchers = _Watchers()
    media_urls: dict[str, str] = {}  # camera -> its media playlist (after a master)

    @server.get("/video/<camera_id>/index.m3u8")
    def playlist(camera_id: str) -> flask.Response:
        who = viewer(pool, wall, camera_id)
        text, media_url = _media_playlist(_upstream(pool, camera_id, relay))
        if watchers.due(who, camera_id):
            with pool.connection() as conn:
                ip = flask.request.remote_addr
                access.audit(conn, who, "view_video", True, ip=ip, detail={"camera": camera_id})
        media_urls[camera_id] = media_url
        body = proxied_playlist(text, f"/video/{camera_id}/")
        response = flask.Response(body, mimetype="application/vnd.apple.mpegurl")
        response.headers["Cache-Control"] = "no-store"
        return response

    @server.get("/video/<camera_id>/<name>")
    def segment(camera_id: str, name: str) -> flask.Response:
        viewer(pool, wall, camera_id)
        if not segment_name_ok(name):
            raise NotFound("no such segment")
        upstream = _upstream(pool, camera_id, relay)
        media_url = media_urls.get(camera_id) or _media_playlist(upstream)[1]
        try:
            answer = open_stream(urljoin(media_url, name), FETCH_TIMEOUT_S)
        except OSError:
            raise NotFound("segment gone") from None

        def body() -> Iterator[bytes]:
            with answer:
                while chunk := answer.read(65536):
                    yield chunk

        kind = answer.headers.get_content_type() or "video/mp2t"
        response = flask.Response(body(), mimetype=kind)
        response.headers["Cache-Control"] = "no-store"
        return response
