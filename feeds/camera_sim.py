"""Simulated cameras that really stream: one ffmpeg test source per camera,
its id and the UTC time burnt into the picture, cut into HLS segments in a
folder and served over HTTP on 127.0.0.1 only; some cameras flap.

A flapping camera is down for ``down_s`` of every ``period_s`` seconds, in
one of two ways, so both kinds of trouble are seen: ``no_signal`` (the
encoder stops, the server still answers with the old playlist, which no
longer advances) or ``unreachable`` (the server answers 404 for the camera).
"""

from __future__ import annotations

import http.server
import logging
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import ClassVar, Literal

log = logging.getLogger(__name__)

DownMode = Literal["no_signal", "unreachable"]
CAMERA_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
DEFAULT_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf")
PLAYLIST = "index.m3u8"


@dataclass(frozen=True)
class Picture:
    """What every simulated camera sends: size in pixels, frames a second,
    HLS segment length in seconds and how many segments the playlist keeps."""

    width_px: int = 320
    height_px: int = 180
    fps: int = 10
    segment_s: int = 1
    playlist_segments: int = 6


@dataclass(frozen=True)
class Flapping:
    """The flapping schedule: each flapping camera is down ``down_s`` of every
    ``period_s`` seconds, the cameras' down times spread over the period."""

    period_s: float = 60.0
    down_s: float = 20.0


def flap_mode(index: int, flapping: int) -> DownMode | None:
    """How the ``index``-th simulated camera flaps (0-based): the first
    ``flapping`` cameras do, alternating no signal and unreachable; None: never."""
    if index >= flapping:
        return None
    return "no_signal" if index % 2 == 0 else "unreachable"


def is_down(index: int, flapping: int, t_s: float, schedule: Flapping) -> bool:
    """Whether the ``index``-th camera is down ``t_s`` seconds after the start.
    Camera i's down time starts at ``i * period / flapping`` into each period,
    so the flapping cameras do not all go dark at once."""
    if flap_mode(index, flapping) is None:
        return False
    offset_s = index * schedule.period_s / flapping
    phase_s = (t_s - offset_s) % schedule.period_s
    return t_s >= offset_s and phase_s < schedule.down_s


def check_camera_id(camera_id: str) -> str:
    """``camera_id`` if it is safe as a folder name and inside an ffmpeg
    filter (letters, digits, ``_`` and ``-``), else ValueError."""
    if not CAMERA_ID.match(camera_id):
        raise ValueError(f"camera id {camera_id!r}: use letters, digits, '_' or '-' (at most 64)")
    return camera_id


def ffmpeg_args(camera_id: str, out_dir: Path, picture: Picture, font: Path) -> list[str]:
    """The ffmpeg command that streams ``camera_id``'s test picture as live
    HLS into ``out_dir`` (``index.m3u8`` and its segments, each segment with
    its wall-clock time in ``#EXT-X-PROGRAM-DATE-TIME``)."""
    check_camera_id(camera_id)
    clock = r"%{gmtime\:%Y-%m-%d %H\\\:%M\\\:%S} UTC"
    text = (
        f"drawtext=fontfile={font}:text='{camera_id}  {clock}':x=8:y=8:fontsize=16"
        ":fontcolor=white:box=1:boxcolor=black@0.6"
    )
    size = f"{picture.width_px}x{picture.height_px}"
    return [
        *("ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-re"),
        *("-f", "lavfi", "-i", f"testsrc2=size={size}:rate={picture.fps}"),
        *("-vf", text, "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency"),
        *("-g", str(picture.fps * picture.segment_s), "-pix_fmt", "yuv420p", "-f", "hls"),
        *("-hls_time", str(picture.segment_s), "-hls_list_size", str(picture.playlist_segments)),
        *("-hls_flags", "delete_segments+program_date_time+omit_endlist+temp_file"),
        str(out_dir / PLAYLIST),
    ]


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the segments folder; cameras in ``hidden`` answer 404."""

    hidden: ClassVar[set[str]] = set()
    extensions_map = {  # noqa: RUF012 (the base class declares it so)
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".m3u8": "application/vnd.apple.mpegurl",
        ".ts": "video/mp2t",
    }

    def do_GET(self) -> None:
        if self.path.strip("/").split("/", 1)[0] in self.hidden:
            self.send_error(404, "camera unreachable")
            return
        super().do_GET()

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        log.debug("camera-sim http: " + format, *args)


@dataclass
class CameraSim:
    """Simulated cameras ``camera_ids`` streaming into ``folder``, served on
    127.0.0.1:``port`` (0: a free port) at ``url(camera_id)``."""

    folder: Path
    camera_ids: list[str]
    flapping: int = 0
    schedule: Flapping = field(default_factory=Flapping)
    picture: Picture = field(default_factory=Picture)
    port: int = 0
    font: Path = DEFAULT_FONT
    _procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _hidden: set[str] = field(default_factory=set)
    _server: http.server.ThreadingHTTPServer | None = None

    def __post_init__(self) -> None:
        for camera_id in self.camera_ids:
            check_camera_id(camera_id)
        if not shutil.which("ffmpeg"):
            raise RuntimeError("ffmpeg is not installed (scripts/setup.sh installs it)")
        if not self.font.exists():
            raise RuntimeError(f"font {self.font} is missing (scripts/setup.sh installs it)")

    def url(self, camera_id: str) -> str:
        """Where ``camera_id``'s HLS playlist is served."""
        return f"http://127.0.0.1:{self.port}/{camera_id}/{PLAYLIST}"

    def start(self) -> None:
        """Serve the folder and start every camera's encoder."""
        self.folder.mkdir(parents=True, exist_ok=True)
        handler = type("Handler", (_Handler,), {"hidden": self._hidden})
        self._server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", self.port), partial(handler, directory=str(self.folder))
        )
        self.port = int(self._server.server_address[1])
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        for camera_id in self.camera_ids:
            self.start_camera(camera_id)

    def start_camera(self, camera_id: str) -> None:
        """(Re)start ``camera_id``'s encoder with a fresh folder, and serve it."""
        if camera_id in self._procs and self._procs[camera_id].poll() is None:
            self._hidden.discard(camera_id)
            return
        out = self.folder / camera_id
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        args = ffmpeg_args(camera_id, out, self.picture, self.font)
        self._procs[camera_id] = subprocess.Popen(args, stdin=subprocess.DEVNULL)
        log.info("camera %s encoder started pid %d", camera_id, self._procs[camera_id].pid)
        self._hidden.discard(camera_id)

    def stop_camera(self, camera_id: str, mode: DownMode) -> None:
        """Take ``camera_id`` down: its encoder stops; ``unreachable`` also
        makes the server answer 404 for it."""
        proc = self._procs.pop(camera_id, None)
        if proc is not None:
            proc.terminate()
            proc.wait(10)
        if mode == "unreachable":
            self._hidden.add(camera_id)

    def flap(self, t_s: float) -> None:
        """Apply the flapping schedule ``t_s`` seconds after the start."""
        for index, camera_id in enumerate(self.camera_ids):
            mode = flap_mode(index, self.flapping)
            if mode is None:
                continue
            down = is_down(index, self.flapping, t_s, self.schedule)
            if down and camera_id in self._procs:
                log.info("camera %s goes down (%s)", camera_id, mode)
                self.stop_camera(camera_id, mode)
            elif not down and camera_id not in self._procs:
                log.info("camera %s comes back", camera_id)
                self.start_camera(camera_id)

    def dead_encoders(self) -> list[str]:
        """Cameras whose encoder exited on its own (not stopped by us)."""
        return [c for c, p in self._procs.items() if p.poll() is not None]

    def stop(self) -> None:
        """Stop every encoder and the server."""
        for camera_id in list(self._procs):
            self.stop_camera(camera_id, "no_signal")
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
