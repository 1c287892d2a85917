"""Video: ``dispatchmap camera-sim`` (simulated cameras that really stream)."""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

from dispatchmap.commands import UsageError

log = logging.getLogger(__name__)


def add_parser(sub: argparse._SubParsersAction) -> None:
    """The ``camera-sim`` subcommand's arguments."""
    sim = sub.add_parser(
        "camera-sim",
        help="simulated cameras streaming HLS on 127.0.0.1 (ffmpeg test pictures, id and "
        "time burnt in), a few flapping",
    )
    sim.add_argument("--port", type=int, default=0, help="HTTP port (default: a free one)")
    sim.add_argument("--dir", type=Path, help="segments folder (default: a temporary one)")
    sim.add_argument("--ids", help="comma-separated camera ids (default: the database's cameras)")
    sim.add_argument("--count", type=int, help="simulate only the first N cameras")
    sim.add_argument("--flapping", type=int, default=3, help="how many of them flap (default 3)")
    sim.add_argument("--flap-period", type=float, default=60.0, help="seconds (default 60)")
    sim.add_argument("--flap-down", type=float, default=20.0, help="seconds down a period")
    sim.add_argument(
        "--update-db",
        action="store_true",
        help="point the simulated cameras' stream URLs in DATABASE_URL at this simulator",
    )
    sim.set_defaults(func=cmd_camera_sim)
    health = sub.add_parser(
        "camera-health",
        help="check every camera's stream in the background (online / no signal / "
        "unreachable); a camera going dark raises a low alarm",
    )
    health.add_argument("--once", action="store_true", help="one round, print it, exit")
    health.set_defaults(func=cmd_camera_health)
    relay = sub.add_parser(
        "relay-env",
        help="write one environment file per rtsp:// camera (RTSP_URL, mode 0600) for "
        "dispatchmap-relay@.service (docs/video.md)",
    )
    relay.add_argument("--out", type=Path, default=Path("/etc/dispatchmap/relay"))
    relay.set_defaults(func=cmd_relay_env)


def _camera_ids(args: argparse.Namespace) -> list[str]:
    if args.ids:
        ids = [c.strip() for c in args.ids.split(",") if c.strip()]
    else:
        import psycopg

        from dispatchmap.commands import database_url
        from store import cameras

        with psycopg.connect(database_url()) as conn:
            ids = cameras.camera_ids(conn)
    ids = ids[: args.count] if args.count else ids
    if not ids:
        raise UsageError("no cameras: give --ids or load a city with cameras")
    return ids


def _point_database(sim_urls: dict[str, str]) -> None:
    import psycopg

    from dispatchmap.commands import database_url
    from store import cameras

    with psycopg.connect(database_url()) as conn:
        for camera_id, url in sim_urls.items():
            if not cameras.set_stream_url(conn, camera_id, url):
                log.warning("camera %s is not in the database", camera_id)


def cmd_camera_sim(args: argparse.Namespace) -> int:
    from dispatchmap.commands.servers import _interrupt_on_sigterm
    from feeds.camera_sim import CameraSim, Flapping

    if args.flap_down >= args.flap_period or args.flap_down < 0:
        raise UsageError("--flap-down must be at least 0 and shorter than --flap-period")
    ids = _camera_ids(args)
    with tempfile.TemporaryDirectory(prefix="dm-camera-sim-") as scratch:
        sim = CameraSim(
            args.dir or Path(scratch),
            ids,
            flapping=min(args.flapping, len(ids)),
            schedule=Flapping(args.flap_period, args.flap_down),
            port=args.port,
        )
        _interrupt_on_sigterm()
        sim.start()
        try:
            if args.update_db:
                _point_database({c: sim.url(c) for c in ids})
            print(f"camera-sim: {len(ids)} cameras on http://127.0.0.1:{sim.port}/", flush=True)
            started = time.monotonic()
            while not sim.dead_encoders():
                sim.flap(time.monotonic() - started)
                time.sleep(0.5)
            log.error("encoder of %s exited; stopping", sim.dead_encoders())
            return 1
        except KeyboardInterrupt:
            return 0
        finally:
            sim.stop()


def cmd_camera_health(args: argparse.Namespace) -> int:
    import threading

    import psycopg

    from dispatchmap.commands import program_database_url
    from dispatchmap.commands.servers import _interrupt_on_sigterm, _run_until_interrupted
    from dispatchmap.settings import VideoSettings
    from feeds import camera_health

    cfg = VideoSettings()
    limits = camera_health.HealthLimits(
        cfg.health_interval_s,
        cfg.health_timeout_s,
        cfg.stale_s,
        cfg.health_parallel,
        cfg.rtsp_relay_url,
    )
    # It raises and clears alarms, as the dispatcher does: the dispatcher's role.
    url = program_database_url("dispatcher")
    if args.once:
        with psycopg.connect(url, autocommit=True) as conn:
            for camera_id, verdict in camera_health.check_round(conn, limits).items():
                print(f"{camera_id}\t{verdict.status}\t{verdict.detail}")
        return 0
    stop = threading.Event()
    _interrupt_on_sigterm()
    log.info("checking cameras every %.0f s", limits.interval_s)
    _run_until_interrupted(lambda: camera_health.run(url, limits, stop), stop.set)
    return 0


def cmd_relay_env(args: argparse.Namespace) -> int:
    import os

    import psycopg

    from dispatchmap.commands import database_url
    from store import cameras

    with psycopg.connect(database_url()) as conn:
        rtsp = [(c, u) for c, u in cameras.camera_streams(conn) if u.lower().startswith("rtsp")]
    args.out.mkdir(parents=True, exist_ok=True, mode=0o700)
    for camera_id, url in rtsp:
        path = args.out / f"{camera_id}.env"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            # systemd reads the value whole between quotes; a quote in a URL is %22.
            out.write(f'RTSP_URL="{url.replace(chr(34), "%22")}"\n')
        print(f"{camera_id}: systemctl enable --now dispatchmap-relay@{camera_id}")
    return 0
