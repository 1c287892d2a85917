"""Camera health verdicts from what a stream answers. Pure: the fetching is
in feeds/camera_health.py.

A camera is ``online`` when its stream delivers fresh pictures, ``no_signal``
when it answers but the pictures stopped (an HLS playlist whose newest
segment is older than ``stale_s``, or that ended; an MJPEG stream that sends
no frame), ``unreachable`` when nothing usable answers (refused, timed out,
an HTTP error), and ``unchecked`` when this process cannot check it (an
``rtsp://`` camera with no relay configured). ``no_signal`` and
``unreachable`` are dark: a camera going dark raises a low alarm.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

Status = Literal["online", "no_signal", "unreachable", "unchecked"]
DARK: frozenset[str] = frozenset({"no_signal", "unreachable"})
_DATE_TIME = re.compile(r"^#EXT-X-PROGRAM-DATE-TIME:(\S+)", re.M)
_EXTINF = re.compile(r"^#EXTINF:([0-9.]+)", re.M)


@dataclass(frozen=True, slots=True)
class Verdict:
    """A camera's health and why, in words that never quote its URL."""

    status: Status
    detail: str = ""

    @property
    def dark(self) -> bool:
        """Whether the camera is dark (no signal or unreachable)."""
        return self.status in DARK


def variant_uri(playlist: str) -> str | None:
    """The first variant of an HLS master playlist (relative or absolute
    URI as written), or None for a media playlist."""
    lines = playlist.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("#EXT-X-STREAM-INF") and i + 1 < len(lines):
            return lines[i + 1].strip()
    return None


def newest_segment_end(playlist: str) -> datetime | None:
    """When the newest segment of an HLS media playlist ends (its
    ``#EXT-X-PROGRAM-DATE-TIME`` plus its ``#EXTINF`` duration), or None
    when the playlist carries no dates."""
    stamps = _DATE_TIME.findall(playlist)
    if not stamps:
        return None
    try:
        start = datetime.fromisoformat(stamps[-1])
    except ValueError:
        return None
    if start.tzinfo is None:
        return None
    durations = _EXTINF.findall(playlist)
    return start + timedelta(seconds=float(durations[-1]) if durations else 0.0)


def hls_verdict(
    playlist: str, now: datetime, stale_s: float, modified_at: datetime | None = None
) -> Verdict:
    """Verdict on an HLS media playlist fetched at ``now``: online while its
    newest segment (or, without segment dates, the playlist's ``modified_at``,
    e.g. its Last-Modified header) is at most ``stale_s`` seconds old."""
    if not playlist.startswith("#EXTM3U"):
        return Verdict("unreachable", "not an HLS playlist")
    if "#EXT-X-ENDLIST" in playlist:
        return Verdict("no_signal", "the stream ended")
    if not _EXTINF.search(playlist):
        return Verdict("no_signal", "no segment yet")
    newest = newest_segment_end(playlist) or modified_at
    if newest is None:
        return Verdict("online", "segments listed, no dates to check their age")
    age_s = (now - newest).total_seconds()
    if age_s > stale_s:
        return Verdict("no_signal", f"newest picture {age_s:.0f} s old")
    return Verdict("online")


def mjpeg_verdict(first_bytes: bytes) -> Verdict:
    """Verdict on the first bytes an MJPEG stream sent within the timeout:
    online once a JPEG frame starts (SOI marker FF D8), else no signal."""
    if b"\xff\xd8" in first_bytes:
        return Verdict("online")
    return Verdict("no_signal", "no picture within the timeout")


def relay_url(camera_id: str, stream_url: str, relay_template: str | None) -> str:
    """Where this process fetches a camera's pictures: an ``rtsp://`` camera
    through the relay (``relay_template`` with ``{camera_id}``, e.g.
    ``http://127.0.0.1:8090/{camera_id}/index.m3u8``) when one is configured,
    any other camera at its own URL."""
    if relay_template and stream_url.lower().startswith(("rtsp://", "rtsps://")):
        return relay_template.replace("{camera_id}", camera_id)
    return stream_url


_SEGMENT = re.compile(r"^[A-Za-z0-9_-]{1,100}\.(ts|m4s|mp4|aac)$")


def segment_name_ok(name: str) -> bool:
    """Whether ``name`` is a plain segment file name the proxy fetches (no
    path, no query, a media suffix)."""
    return bool(_SEGMENT.match(name))


def proxied_playlist(playlist: str, base_path: str) -> str:
    """An HLS media playlist with its segment URIs pointed at the proxy
    (``base_path`` + name). A URI that is not a plain segment name (an
    absolute URL, a path, a query) is dropped with its ``#EXTINF`` line, so
    no camera address reaches the browser."""
    out: list[str] = []
    for line in playlist.splitlines():
        text = line.strip()
        if not text or text.startswith("#"):
            out.append(text)
        elif segment_name_ok(text):
            out.append(base_path + text)
        elif out and out[-1].startswith("#EXTINF"):
            out.pop()
    return "\n".join(out) + "\n"
