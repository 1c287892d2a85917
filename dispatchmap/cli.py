"""The ``dispatchmap`` command: db upgrade | load-city | ingest | simulate |
serve | demo | replay-export and the rest (``dispatchmap --help``).

This module parses the arguments and calls the command; the commands live in
``dispatchmap.commands`` by group (servers, admin, reports, export).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from dispatchmap.commands import UsageError, admin, export, jt808, reports, servers, video
from dispatchmap.commands.admin import load_city

__all__ = ["load_city", "main", "parser"]
DESCRIPTION = (
    "The live resource map and dispatch desk of a police station: ingest, dispatch, "
    "the dashboard, replay exports and their administration. Each command has its own --help."
)


def _aware_time(text: str) -> datetime:
    from feeds.decoders import DecodeError
    from feeds.decoders.native import parse_time

    try:
        return parse_time(text)
    except DecodeError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: {exc.detail}") from None


def _iso_time(text: str) -> datetime:
    """ISO 8601 with or without an offset (the command decides what a time
    without one means)."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: use ISO 8601, e.g. 2026-03-02T10:15 or 2026-03-02T10:15+02:00"
        ) from None


def _area(text: str) -> tuple[float, float, float, float]:
    from geo.replay_window import parse_bbox

    try:
        return parse_bbox(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: {exc}") from None


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="dispatchmap", description=DESCRIPTION)
    sub = top.add_subparsers(dest="command", required=True)
    db = sub.add_parser("db", help="database schema").add_subparsers(
        dest="db_command", required=True
    )
    db.add_parser(
        "upgrade",
        help="apply the numbered SQL migrations not yet applied; create the program roles "
        "(dm_ingest, dm_dispatcher, dm_dashboard) and grant their rights",
    ).set_defaults(func=admin.cmd_db_upgrade)
    audit = sub.add_parser("audit", help="the tamper-evident logs").add_subparsers(
        dest="audit_command", required=True
    )
    audit.add_parser(
        "verify",
        help="recompute the hash chains of the event log and the audit log; "
        "exit 1 naming the first row that does not fit",
    ).set_defaults(func=admin.cmd_audit_verify)
    city = sub.add_parser(
        "load-city", help="load roads from an OSM extract and the station's furniture"
    )
    city.add_argument(
        "pbf", nargs="?", type=Path, help=".osm.pbf extract (default: sample Helsinki)"
    )
    city.add_argument(
        "--furniture",
        type=Path,
        help="folder with station/beats/cameras.geojson and roster.csv "
        "(default: the sample's for Helsinki, generated for others)",
    )
    city.add_argument("--seed", type=int, default=1, help="seed for generated furniture")
    city.set_defaults(func=admin.cmd_load_city)
    ing = sub.add_parser("ingest", help="run an ingest worker (MQTT -> PostGIS)")
    ing.add_argument("--client-id", help="MQTT client id (default DM_INGEST_CLIENT_ID)")
    ing.set_defaults(func=servers.cmd_ingest)
    sim = sub.add_parser("simulate", help="drive the roster over the roads and publish positions")
    _sim_args(sim)
    sim.add_argument("--units", type=int, help="simulate only the first N units of the roster")
    sim.add_argument("--duration", type=float, help="stop after this many seconds")
    sim.add_argument(
        "--formats",
        choices=["devices", "native"],
        default="devices",
        help="each device's own format (NMEA/native trackers, OwnTracks phones, "
        "LIP radios), or native JSON for all",
    )
    sim.add_argument(
        "--fault-rate",
        type=float,
        default=0.0,
        help="share of messages spoiled (jumps, zero fixes, future times, "
        "duplicates, bad checksums, garbage, unknown devices)",
    )
    sim.add_argument(
        "--incidents-per-hour",
        type=float,
        default=0.0,
        help="simulated 110 calls published on dm/incidents (per simulated hour)",
    )
    sim.add_argument(
        "--credentials",
        type=Path,
        help="credentials.csv of feeds.broker_auth: connect each device as its own user "
        "(default DM_SIM_CREDENTIALS; unset: one connection as MQTT_URL's user)",
    )
    sim.add_argument(
        "--fault-labels", type=Path, help="append a JSON line per injected fault to this file"
    )
    sim.set_defaults(func=servers.cmd_simulate)
    dsp = sub.add_parser(
        "dispatcher", help="110 incidents in, orders out, acknowledgements, arrivals, alarms"
    )
    dsp.set_defaults(func=servers.cmd_dispatcher)
    jtg = sub.add_parser("jt808-gateway", help="JT/T 808 vehicle terminals over TCP -> MQTT")
    jtg.add_argument("--host", help="address to listen on (default DM_JT808_HOST, 0.0.0.0)")
    jtg.add_argument("--port", type=int, help="TCP port (default DM_JT808_PORT, 6808)")
    jtg.set_defaults(func=jt808.cmd_jt808_gateway)
    sug = sub.add_parser("suggest", help="units that reach an incident soonest; --dispatch N sends")
    sug.add_argument("incident", type=int, help="incident id")
    sug.add_argument("--dispatch", type=int, default=0, help="dispatch the first N suggestions")
    sug.add_argument("--actor", default="cli", help="who dispatches (for the event log)")
    sug.set_defaults(func=reports.cmd_suggest)
    clock = sub.add_parser("response-clock", help="the response clock of a period, and CSV")
    clock.add_argument("--since", type=_aware_time, help="ISO 8601 with offset (default: 24 h ago)")
    clock.add_argument("--until", type=_aware_time, help="ISO 8601 with offset (default: now)")
    clock.add_argument("--csv", type=Path, help="write one row per incident to this file")
    clock.set_defaults(func=reports.cmd_response_clock)
    users = sub.add_parser("users", help="dashboard users").add_subparsers(
        dest="users_command", required=True
    )
    uadd = users.add_parser("add", help="create a user (asks for the password)")
    uadd.add_argument("name")
    uadd.add_argument(
        "--role", required=True, choices=["wall", "dispatcher", "commander", "reviewer", "admin"]
    )
    uadd.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    uadd.set_defaults(func=admin.cmd_users_add)
    wall = sub.add_parser("wall-token", help="a read-only token for a wall screen")
    wall.add_argument("label", help="which screen, e.g. 'command room left'")
    wall.set_defaults(func=admin.cmd_wall_token)
    ret = sub.add_parser("retention", help="drop positions history older than the retention")
    ret.add_argument("--keep-days", type=int, default=90, help="days of history kept (default 90)")
    ret.set_defaults(func=admin.cmd_retention)
    pres = sub.add_parser("presence", help="online / stale / offline of every unit or device")
    pres.add_argument("--devices", action="store_true", help="by device, including unknown ones")
    pres.set_defaults(func=reports.cmd_presence)
    _replay_export_args(sub)
    video.add_parser(sub)
    srv = sub.add_parser("serve", help="serve the dashboard (/wall)")
    srv.add_argument(
        "--port", type=int, help="HTTP port (default DM_DASH_PORT or 8050); 0 = default"
    )
    srv.set_defaults(func=servers.cmd_serve)
    demo = sub.add_parser(
        "demo", help="private servers + sample city + simulator + ingest + dashboard"
    )
    _sim_args(demo)
    demo.add_argument("--port", type=int, help="dashboard port (default 8050)")
    demo.add_argument("--reload-city", action="store_true", help="load the sample city again")
    demo.add_argument(
        "--incidents-per-hour",
        type=float,
        default=30.0,
        help="simulated 110 calls an hour (simulated time), so the desk has work",
    )
    demo.add_argument(
        "--fault-rate",
        type=float,
        default=0.01,
        help="share of simulated messages spoiled, so the quarantine is seen working",
    )
    demo.add_argument(
        "--video-cameras",
        type=int,
        default=8,
        help="cameras streaming simulated pictures on 127.0.0.1 (3 of them flapping)",
    )
    demo.set_defaults(func=servers.cmd_demo)
    return top


def _replay_export_args(sub: argparse._SubParsersAction) -> None:
    exp = sub.add_parser(
        "replay-export",
        help="a replay window as GeoJSON or CSV, or an incident's one-page PDF report",
        description="Export a replay window's tracks and events (GeoJSON or CSV, as the "
        "replay page's export links), or an incident's one-page PDF report. "
        "Times without an offset are station time (DM_DASH_TIMEZONE, default "
        "Europe/Helsinki); a time with an offset (+02:00, Z) means that instant. "
        "A progress bar shows on stderr when it is a terminal.",
    )
    window = exp.add_mutually_exclusive_group(required=True)
    window.add_argument(
        "--incident",
        type=int,
        metavar="ID",
        help="the incident's lifetime from its event log, 2 minutes either side (as /replay)",
    )
    window.add_argument(
        "--start", type=_iso_time, metavar="T", help="window start, ISO 8601 (with --end)"
    )
    exp.add_argument(
        "--end",
        type=_iso_time,
        metavar="T",
        help="window end, ISO 8601; at most 24 h after --start",
    )
    exp.add_argument(
        "--area",
        type=_area,
        metavar="MIN_LON,MIN_LAT,MAX_LON,MAX_LAT",
        help="WGS84 degrees: only units seen inside it (whole tracks), their events and "
        "what happened inside it; for a PDF, the map's extent",
    )
    exp.add_argument(
        "--format",
        choices=["geojson", "csv", "gpkg", "pdf"],
        help="default: from the --out suffix (.geojson/.json, .csv, .gpkg, .pdf), else geojson",
    )
    exp.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        help="write here (default: stdout; a PDF needs a file)",
    )
    exp.add_argument(
        "--progress",
        action="store_true",
        help="report progress on stderr even when it is not a terminal (plain lines)",
    )
    exp.set_defaults(func=export.cmd_replay_export)


def _sim_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, default=1, help="random seed (same seed, same tracks)")
    p.add_argument("--rate", type=float, default=1.0, help="reports per unit per second")
    p.add_argument("--speedup", type=float, default=1.0, help="units move this many times faster")


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(
        level=os.environ.get("DM_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except UsageError as exc:
        print(f"dispatchmap {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
