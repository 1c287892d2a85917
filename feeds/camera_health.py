"""Camera health in the background: every ``interval_s`` each camera's
stream is fetched (a few at a time, each within ``timeout_s``), the verdict
of geo/video.py stored, and a camera going dark raises a low alarm on the
wall (cleared when it comes back), each change an event.

A stream URL may carry credentials (``http://user:secret@host/...``): they
are sent as HTTP Basic authentication and never written to a verdict, a log
line or an event.
"""

from __future__ import annotations

import base64
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http.client import HTTPResponse
from urllib.parse import urljoin, urlsplit, urlunsplit

import psycopg

from geo.video import Verdict, hls_verdict, mjpeg_verdict, relay_url, variant_uri
from store import cameras
from store.incidents import insert_event
from usecases.alarms import CAMERA_DARK

log = logging.getLogger(__name__)
CAMERA_DARK_SEVERITY = 3  # low: a dark camera is worth a look, not a siren
_PLAYLIST_MAX_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class HealthLimits:
    """Seconds: between rounds, per fetch, and the age past which an HLS
    stream's newest picture means no signal; ``parallel`` fetches at once."""

    interval_s: float = 10.0
    timeout_s: float = 3.0
    stale_s: float = 10.0
    parallel: int = 8
    relay_template: str | None = None


def open_stream(url: str, timeout_s: float) -> HTTPResponse:
    """GET ``url`` with any credentials in it sent as Basic authentication
    (urllib does not take them from the URL). Raises OSError (URLError,
    HTTPError, timeouts) when it cannot."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise urllib.error.URLError(f"{parts.scheme}:// is not fetched here")
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    netloc += f":{parts.port}" if parts.port else ""
    request = urllib.request.Request(urlunsplit(parts._replace(netloc=netloc)))
    if parts.username is not None:
        pair = f"{parts.username}:{parts.password or ''}".encode()
        request.add_header("Authorization", "Basic " + base64.b64encode(pair).decode())
    response: HTTPResponse = urllib.request.urlopen(request, timeout=timeout_s)
    return response


def _modified_at(response: HTTPResponse) -> datetime | None:
    header = response.headers.get("Last-Modified")
    try:
        return parsedate_to_datetime(header) if header else None
    except (TypeError, ValueError):
        return None


def _hls(url: str, response: HTTPResponse, limits: HealthLimits, now: datetime) -> Verdict:
    text = response.read(_PLAYLIST_MAX_BYTES).decode("utf-8", "replace")
    variant = variant_uri(text)
    if variant is not None:
        with open_stream(urljoin(url, variant), limits.timeout_s) as media:
            return _hls(url, media, limits, now)
    return hls_verdict(text, now, limits.stale_s, _modified_at(response))


def probe(url: str, limits: HealthLimits, now: Callable[[], datetime]) -> Verdict:
    """The verdict on one camera's stream (HLS playlist, MJPEG, or a JPEG
    snapshot URL); an ``rtsp://`` URL is left unchecked (it plays through the
    relay, docs/video.md)."""
    if urlsplit(url).scheme not in ("http", "https"):
        return Verdict("unchecked", f"{urlsplit(url).scheme}:// plays through the relay")
    try:
        with open_stream(url, limits.timeout_s) as response:
            kind = (response.headers.get_content_type() or "").lower()
            if "mpegurl" in kind or urlsplit(url).path.endswith(".m3u8"):
                return _hls(url, response, limits, now())
            if kind.startswith("multipart/"):
                return mjpeg_verdict(response.read1(65536))
            if kind == "image/jpeg":
                return Verdict("online", "snapshot")
            return Verdict("unreachable", f"unexpected content type {kind}")
    except urllib.error.HTTPError as exc:
        return Verdict("unreachable", f"HTTP {exc.code}")
    except urllib.error.URLError as exc:
        return Verdict("unreachable", str(exc.reason)[:120])
    except (OSError, ValueError) as exc:
        return Verdict("unreachable", type(exc).__name__)


def record(conn: psycopg.Connection, camera_id: str, verdict: Verdict, at: datetime) -> None:
    """Store the verdict; raise the camera's alarm when dark, clear it when
    not (each an event only when it changes something)."""
    before = cameras.record_camera_health(conn, camera_id, verdict.status, verdict.detail, at)
    if before != verdict.status:
        log.info("camera %s: %s -> %s %s", camera_id, before, verdict.status, verdict.detail)
    data: dict[str, object] = {"alarm": CAMERA_DARK, "camera_id": camera_id}
    data["detail"] = verdict.detail
    if verdict.dark:
        if cameras.raise_camera_alarm(
            conn, CAMERA_DARK, CAMERA_DARK_SEVERITY, camera_id, at, verdict.status
        ):
            data["severity"] = CAMERA_DARK_SEVERITY
            insert_event(conn, at=at, kind="alarm_raised", actor="system", data=data)
    elif cameras.clear_camera_alarm(conn, CAMERA_DARK, camera_id, at):
        insert_event(conn, at=at, kind="alarm_cleared", actor="system", data=data)


def check_round(
    conn: psycopg.Connection,
    limits: HealthLimits,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> dict[str, Verdict]:
    """Check every camera once (``limits.parallel`` at a time) and record the
    verdicts, one transaction per camera; returns camera id -> verdict."""
    streams = [
        (camera_id, relay_url(camera_id, url, limits.relay_template))
        for camera_id, url in cameras.camera_streams(conn)
    ]
    with ThreadPoolExecutor(max_workers=max(1, limits.parallel)) as pool:
        verdicts = list(pool.map(lambda s: probe(s[1], limits, now), streams))
    out = {}
    for (camera_id, _), verdict in zip(streams, verdicts, strict=True):
        with conn.transaction():
            record(conn, camera_id, verdict, now())
        out[camera_id] = verdict
    return out


def run(database_url: str, limits: HealthLimits, stop: threading.Event) -> None:
    """Check every ``limits.interval_s`` until ``stop`` is set; a database
    error is logged and the next round tried."""
    while not stop.is_set():
        try:
            with psycopg.connect(database_url, autocommit=True) as conn:
                while not stop.is_set():
                    check_round(conn, limits)
                    stop.wait(limits.interval_s)
        except psycopg.Error as exc:
            log.error("camera health: %s; retrying in %.0f s", exc, limits.interval_s)
            stop.wait(limits.interval_s)
