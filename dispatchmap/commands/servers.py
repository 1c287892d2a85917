"""Long-running processes: ingest, dispatcher, simulator, dashboard, demo."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dispatchmap.commands import dispatch_thresholds, program_database_url, require
from dispatchmap.commands.admin import load_city

if TYPE_CHECKING:
    import paho.mqtt.client as mqtt

    from dispatchmap.settings import DashboardSettings, ServerSettings
    from feeds.dispatcher import DispatchWorker
    from feeds.leadership import Leadership
    from feeds.sim_connections import DeviceConnections, SharedConnection
    from feeds.simulator import Inbox, SimUnit
    from feeds.topics import Topics

log = logging.getLogger("dispatchmap")
INGEST_CLIENT = "dispatchmap-ingest"  # client id of an ingest with no MQTT user


def cmd_ingest(args: argparse.Namespace) -> int:
    from dispatchmap.settings import (
        IngestSettings,
        ServerSettings,
        TopicSettings,
        mqtt_client_id,
        mqtt_credentials,
        mqtt_host_port,
    )
    from feeds.ingest import IngestWorker, tune_gc
    from feeds.pipeline import Limits, Pipeline
    from feeds.topics import Topics

    servers, ingest, topic_cfg = ServerSettings(), IngestSettings(), TopicSettings()
    mqtt_url = require(servers.mqtt_url, "MQTT_URL")
    host, port = mqtt_host_port(mqtt_url)
    db_url = program_database_url("ingest")
    topics = Topics(topic_cfg.prefix, topic_cfg.owntracks_prefix)
    limits = Limits(
        future_tolerance_s=ingest.future_tolerance_s,
        max_age_s=ingest.max_age_s,
        max_acc_m=ingest.max_acc_m,
        area=ingest.bbox() or _city_area(db_url, ingest.area_margin_deg),
        jump_min_m=ingest.jump_min_m,
    )
    worker = IngestWorker(
        mqtt_host=host,
        mqtt_port=port,
        database_url=db_url,
        topics=topics,
        pipeline=Pipeline(topics, limits, gcj02_formats=ingest.gcj02_format_set()),
        client_id=mqtt_client_id(args.client_id or ingest.client_id, mqtt_url, INGEST_CLIENT),
        share_group=ingest.share_group,
        batch_max=ingest.batch_max,
        batch_wait_ms=ingest.batch_wait_ms,
        queue_max=ingest.queue_max,
        credentials=mqtt_credentials(mqtt_url),
    )
    _encrypt(worker.session.client, servers)
    _interrupt_on_sigterm()
    if ingest.metrics_port:
        worker.metrics.serve(ingest.metrics_port)
        log.info("metrics on http://127.0.0.1:%d/metrics", ingest.metrics_port)
    log.info("area checked: %s", limits.area)
    tune_gc()
    worker.start()
    log.info("ingest running; subscriptions %s", topics.subscriptions(ingest.share_group))
    _run_until_interrupted(worker.run, worker.stop)
    log.info("ingest stopped: %s", worker.stats)
    return 0


def _city_area(database_url: str, margin_deg: float) -> tuple[float, float, float, float] | None:
    """The road network's extent grown by ``margin_deg``; None if no city is loaded."""
    import psycopg

    from store import city as city_store

    with psycopg.connect(database_url) as conn:
        extent = city_store.city_extent(conn)
    if extent is None:
        return None
    a, b, c, d = extent
    return a - margin_deg, b - margin_deg, c + margin_deg, d + margin_deg


def cmd_simulate(args: argparse.Namespace) -> int:
    import psycopg

    from dispatchmap.settings import ServerSettings, SimulatorSettings, TopicSettings
    from feeds.crews import Calls, Crews
    from feeds.faults import FaultInjector
    from feeds.simulator import Inbox, build_fleet, call_places, drive
    from feeds.topics import Topics
    from store import city as city_store

    servers, topic_cfg = ServerSettings(), TopicSettings()
    with psycopg.connect(require(servers.database_url, "DATABASE_URL")) as conn:
        roster = city_store.roster(conn)[: args.units]
        fleet = build_fleet(
            roster,
            city_store.car_graph(conn),
            city_store.foot_graph(conn),
            city_store.node_positions(conn),
            args.seed,
            args.formats,
        )
    if not fleet:
        sys.exit("dispatchmap simulate: the roster is empty; run `dispatchmap load-city` first")
    topics = Topics(topic_cfg.prefix, topic_cfg.owntracks_prefix)
    crews = Crews(fleet, topics, args.seed)
    places = call_places(fleet)
    orders = Inbox()
    credentials = args.credentials or SimulatorSettings().credentials
    link = _sim_connections(servers, credentials, topics, orders, fleet)
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
            link.publish,
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
    link.close()
    if labels is not None:
        labels.close()
    if faults is not None:
        log.info("faults injected: %s", faults.injected)
    return 0


def _sim_connections(
    servers: ServerSettings,
    credentials: Path | None,
    topics: Topics,
    orders: Inbox,
    fleet: list[SimUnit],
) -> SharedConnection | DeviceConnections:
    """One connection per device with its own credentials when a credentials
    table is given (a production broker), else one connection as MQTT_URL's user."""
    from dispatchmap.settings import mqtt_credentials, mqtt_host_port, mqtt_tls
    from feeds.broker_auth import read_credentials
    from feeds.sim_connections import DeviceConnections, SharedConnection

    mqtt_url = require(servers.mqtt_url, "MQTT_URL")
    host, port = mqtt_host_port(mqtt_url)
    tls = mqtt_tls(mqtt_url, servers.mqtt_ca_file)
    if credentials is None:
        client_id = f"dispatchmap-sim-{os.getpid()}"
        user = mqtt_credentials(mqtt_url)
        return SharedConnection(host, port, topics, orders, client_id, user, tls)
    rows = read_credentials(credentials)
    return DeviceConnections(rows, host, port, topics, orders, [u.unit_id for u in fleet], tls)


def _encrypt(client: mqtt.Client, servers: ServerSettings) -> None:
    """TLS for ``client`` when MQTT_URL is ``mqtts://`` (CA: DM_MQTT_CA_FILE)."""
    from dispatchmap.settings import mqtt_tls

    if (context := mqtt_tls(servers.mqtt_url or "", servers.mqtt_ca_file)) is not None:
        client.tls_set_context(context)


def cmd_dispatcher(args: argparse.Namespace) -> int:
    from dispatchmap.settings import (
        DispatchSettings,
        ServerSettings,
        TopicSettings,
        mqtt_client_id,
        mqtt_credentials,
        mqtt_host_port,
    )
    from feeds.dispatcher import DispatchWorker
    from feeds.leadership import Leadership
    from feeds.topics import Topics

    servers, cfg, topic_cfg = ServerSettings(), DispatchSettings(), TopicSettings()
    mqtt_url = require(servers.mqtt_url, "MQTT_URL")
    url = program_database_url("dispatcher")
    host, port = mqtt_host_port(mqtt_url)

    def worker() -> DispatchWorker:
        made = DispatchWorker(
            mqtt_host=host,
            mqtt_port=port,
            database_url=url,
            topics=Topics(topic_cfg.prefix, topic_cfg.owntracks_prefix),
            client_id=mqtt_client_id(cfg.client_id, mqtt_url, "dispatchmap-dispatcher"),
            thresholds=dispatch_thresholds(),
            arrival_radius_m=cfg.arrival_radius_m,
            tick_s=cfg.tick_s,
            credentials=mqtt_credentials(mqtt_url),
        )
        _encrypt(made.session.client, servers)
        return made

    _interrupt_on_sigterm()
    _lead(Leadership(url, poll_s=cfg.standby_poll_s), worker)
    return 0


def _lead(lead: Leadership, make: Callable[[], DispatchWorker]) -> None:
    """Stand by until this process holds the dispatcher lock, then run a
    worker until the lock is lost (stand by again) or Ctrl-C / SIGTERM."""
    active = None
    try:
        log.info("dispatcher standing by for the dispatcher lock")
        while lead.acquire(threading.Event()):
            active = make()
            active.start()
            log.info("dispatcher active")
            # Losing the lock sets the worker's own stop event: run() returns.
            lead.watch(active.session.stopping, active.session.stopping)
            active.run()
            active.stop()
            active = None
            lead.release()
            log.warning("dispatcher lock lost; standing by")
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if active is not None:
            active.stop()
        lead.release()


def cmd_serve(args: argparse.Namespace) -> int:
    from dispatchmap.settings import DashboardSettings

    dash_cfg = DashboardSettings()
    port = args.port or dash_cfg.port
    # The Host check (DM_DASH_ALLOWED_HOSTS unset) answers the port served.
    dash_cfg = dash_cfg.model_copy(update={"port": port})
    url = program_database_url("dashboard")
    print(f"dashboard on http://{dash_cfg.host}:{port}/wall", flush=True)
    if dash_cfg.server == "dev":
        app, close = dashboard_app(url, dash_cfg, dash_cfg.threads)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        try:
            app.run(
                host=dash_cfg.host, port=port, debug=False, dev_tools_disable_version_check=True
            )
        finally:
            close()
        return 0
    from dispatchmap.web import DashboardServer

    DashboardServer(
        lambda: dashboard_app(url, dash_cfg, dash_cfg.threads, wsgi=True),
        bind=f"{dash_cfg.host}:{port}",
        workers=dash_cfg.workers,
        threads=dash_cfg.threads,
        access_log=dash_cfg.access_log,
    ).run()
    return 0


def dashboard_app(
    url: str, dash_cfg: DashboardSettings, pool_size: int, wsgi: bool = False
) -> tuple[Any, Callable[[], None]]:
    """The Dash app (or its WSGI callable) on pools of its own (the primary,
    and the replica of DATABASE_READ_URL if set), and their close."""
    from dashboard.app import create_app
    from dispatchmap.settings import PresenceSettings, ProgramDatabaseSettings, ServerSettings
    from store.db import open_pool
    from store.roles import role_url

    pool = open_pool(url, max_size=pool_size)
    replica_url = ServerSettings().database_read_url
    read_pool = None
    if replica_url:
        password = ProgramDatabaseSettings().password("dashboard")
        read_pool = open_pool(role_url(replica_url, "dashboard", password), wait=False)
    app = create_app(dash_cfg, PresenceSettings(), pool, read_pool)

    def close() -> None:
        pool.close()
        if read_pool is not None:
            read_pool.close()

    return (app.server if wsgi else app), close


def cmd_demo(args: argparse.Namespace) -> int:
    import contextlib

    import psycopg

    from dispatchmap import runtime
    from dispatchmap.services import free_port
    from dispatchmap.settings import ServerSettings, TopicSettings
    from feeds.broker_auth import DISPATCH_USER, ingest_user
    from feeds.topics import Topics
    from store import city as city_store
    from store.migrate import upgrade

    settings, topic_cfg = ServerSettings(), TopicSettings()
    with contextlib.ExitStack() as stack:
        database_url = runtime.database(settings, stack)
        with psycopg.connect(database_url) as conn:
            upgrade(conn)
            empty = city_store.city_extent(conn) is None
        if empty or args.reload_city:
            print(load_city(database_url, None, None, 1), flush=True)
        with psycopg.connect(database_url) as conn:
            roster = city_store.roster(conn)
        topics = Topics(topic_cfg.prefix, topic_cfg.owntracks_prefix)
        broker = runtime.broker(settings, stack, roster, topics)
        demo_login = _demo_user(database_url)
        print(f"demo login for /desk: {demo_login}", flush=True)
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "MQTT_URL": broker.url,
            "DM_DASH_DEMO": "true",
            "DM_DASH_DEMO_LOGIN": demo_login,
        }
        # A second demo on the same machine must not fight over the metrics port.
        env.setdefault("DM_INGEST_METRICS_PORT", str(free_port()))
        # On the private broker each program connects as its own user.
        own_user = {"ingest": ingest_user(1), "dispatcher": DISPATCH_USER}
        me = [sys.executable, "-m", "dispatchmap.cli"]
        commands = _demo_commands(args, broker.credentials_csv)
        envs = {name: {**env, "MQTT_URL": broker.url_for(user)} for name, user in own_user.items()}
        children = {
            name: subprocess.Popen([*me, *cmd], env=envs.get(name, env))
            for name, cmd in commands.items()
        }
        for name, child in children.items():
            log.info("started %s pid %d", name, child.pid)
        return _supervise(children)


def _demo_commands(args: argparse.Namespace, credentials: Path | None) -> dict[str, list[str]]:
    """The demo's programs and their arguments; with ``credentials`` (a
    private production broker) the simulator connects each device as its own user."""
    sim_auth = ["--credentials", str(credentials)] if credentials else []
    video = ["camera-sim", "--update-db", "--count", str(args.video_cameras)]
    return {
        "ingest": ["ingest"],
        "dispatcher": ["dispatcher"],
        "simulate": [
            "simulate",
            *sim_auth,
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
        # The first cameras stream for real (simulated), a few of them flapping.
        **({"camera-sim": video} if args.video_cameras > 0 else {}),
        "camera-health": ["camera-health"],
    }


def _demo_user(database_url: str) -> str:
    """A commander ``demo`` with a fresh random password each demo start."""
    import secrets

    import psycopg

    from usecases import access

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
