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

from dispatchmap.commands import database_url, dispatch_thresholds, require
from dispatchmap.commands.admin import load_city

log = logging.getLogger("dispatchmap")


def cmd_ingest(args: argparse.Namespace) -> int:
    from dispatchmap.settings import (
        IngestSettings,
        ServerSettings,
        TopicSettings,
        mqtt_credentials,
        mqtt_host_port,
    )
    from feeds.ingest import IngestWorker, tune_gc
    from feeds.pipeline import Limits, Pipeline
    from feeds.topics import Topics

    servers, ingest, topic_cfg = ServerSettings(), IngestSettings(), TopicSettings()
    host, port = mqtt_host_port(require(servers.mqtt_url, "MQTT_URL"))
    db_url = require(servers.database_url, "DATABASE_URL")
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
    tune_gc()
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
    from feeds.simulator import Inbox, build_fleet, call_places, drive
    from feeds.topics import Topics
    from geo import queries

    servers, topic_cfg = ServerSettings(), TopicSettings()
    with psycopg.connect(require(servers.database_url, "DATABASE_URL")) as conn:
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
    mqtt_url = require(servers.mqtt_url, "MQTT_URL")
    if (credentials := mqtt_credentials(mqtt_url)) is not None:
        client.username_pw_set(*credentials)
    host, port = mqtt_host_port(mqtt_url)
    crews = Crews(fleet, topics, args.seed)
    places = call_places(fleet)
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

    servers, cfg, topic_cfg = ServerSettings(), DispatchSettings(), TopicSettings()
    mqtt_url = require(servers.mqtt_url, "MQTT_URL")
    host, port = mqtt_host_port(mqtt_url)
    worker = DispatchWorker(
        mqtt_host=host,
        mqtt_port=port,
        database_url=require(servers.database_url, "DATABASE_URL"),
        topics=Topics(topic_cfg.prefix, topic_cfg.owntracks_prefix),
        client_id=cfg.client_id,
        thresholds=dispatch_thresholds(),
        arrival_radius_m=cfg.arrival_radius_m,
        tick_s=cfg.tick_s,
        credentials=mqtt_credentials(mqtt_url),
    )
    _interrupt_on_sigterm()
    worker.start()
    log.info("dispatcher running")
    _run_until_interrupted(worker.run, worker.stop)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from dashboard.app import create_app
    from dispatchmap.settings import DashboardSettings, PresenceSettings
    from geo.db import open_pool

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    dash_cfg = DashboardSettings()
    port = args.port or dash_cfg.port
    # The Host check (DM_DASH_ALLOWED_HOSTS unset) answers the port served.
    dash_cfg = dash_cfg.model_copy(update={"port": port})
    pool = open_pool(database_url())
    app = create_app(dash_cfg, PresenceSettings(), pool)
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
