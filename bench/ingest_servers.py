"""The ingest benchmark's servers and its two ceilings: the broker's (a
subscriber that only counts) and the database's (the writer's own COPY and
statements, nothing else), and the accounting of what was stored."""

from __future__ import annotations

import multiprocessing
import os
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import paho.mqtt.client as mqtt
import psycopg
from psycopg import sql

from dispatchmap.services import EmbeddedMosquitto, EmbeddedPostgres
from dispatchmap.settings import IngestSettings, ServerSettings, mqtt_host_port
from feeds.mqtt_client import BufferedClient
from feeds.pipeline import DUPLICATE, Limits, Message, Pipeline
from feeds.topics import Topics
from feeds.writer import StageEncoder, stage_row
from geo import queries
from store import city as city_store

if TYPE_CHECKING:
    from ingest_backlog import Sample

TOPICS = Topics()


# ------------------------------------------------------------------- servers


@dataclass(frozen=True)
class Env:
    admin_url: str
    mqtt_host: str
    mqtt_port: int
    commit_ts: bool  # track_commit_timestamp is on: live latency can be measured


def enable_commit_timestamps(pg: EmbeddedPostgres) -> None:
    with psycopg.connect(pg.url, autocommit=True) as conn:
        conn.execute("ALTER SYSTEM SET track_commit_timestamp = on")
    pg.restart("fast")


@contextmanager
def servers(stack: ExitStack) -> Iterator[Env]:
    """The configured servers, or private ones under a temp folder."""
    configured = ServerSettings()
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="dm-bench-")))
    admin_url = configured.database_url
    if admin_url is None:
        pg = stack.enter_context(EmbeddedPostgres(folder / "pg"))
        enable_commit_timestamps(pg)
        admin_url = pg.url
    if configured.mqtt_url is None:
        broker = stack.enter_context(EmbeddedMosquitto(folder / "mq"))
        host, port = "127.0.0.1", broker.port
    else:
        host, port = mqtt_host_port(configured.mqtt_url)
    with psycopg.connect(admin_url) as conn:
        row = conn.execute("SHOW track_commit_timestamp").fetchone()
    yield Env(admin_url, host, port, bool(row and row[0] == "on"))


def fresh_database(env: Env, name: str, template: str) -> str:
    """A copy of ``template`` (migrated, city and fleet loaded) named ``name``."""
    with psycopg.connect(env.admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        )
    return env.admin_url.rsplit("/", 1)[0] + "/" + name


def ingest_limits(url: str) -> Limits:
    """The limits ``dispatchmap ingest`` runs with: settings, and the city's area."""
    cfg = IngestSettings()
    with psycopg.connect(url) as conn:
        extent = city_store.city_extent(conn)
    m = cfg.area_margin_deg
    area = cfg.bbox() or (
        (extent[0] - m, extent[1] - m, extent[2] + m, extent[3] + m) if extent else None
    )
    return Limits(
        future_tolerance_s=cfg.future_tolerance_s,
        max_age_s=cfg.max_age_s,
        max_acc_m=cfg.max_acc_m,
        area=area,
        jump_min_m=cfg.jump_min_m,
    )


# ---------------------------------------------------------------------- MQTT


def session(env: Env, client_id: str, clean: bool = False, inflight: int = 1000) -> mqtt.Client:
    """A connected QoS 1 client with a persistent session (loop running)."""
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=clean,
        protocol=mqtt.MQTTv311,
    )
    client.max_inflight_messages_set(inflight)
    client.connect(env.mqtt_host, env.mqtt_port, keepalive=60)
    client.loop_start()
    return client


def create_session(env: Env, client_id: str, share_group: str | None = None) -> None:
    """Subscribe ``client_id`` to the ingest's filters, then leave: the broker
    queues for it (with ``share_group``, its share of the group's messages)."""
    client = session(env, client_id)
    done = threading.Event()
    client.on_subscribe = lambda *a: done.set()
    client.subscribe([(f, 1) for f in TOPICS.subscriptions(share_group)])
    if not done.wait(10):
        raise RuntimeError(f"no SUBACK for {client_id}")
    client.disconnect()
    client.loop_stop()


def publish_backlog(env: Env, samples: Sequence[Sample], chunk: int = 5000) -> float:
    """Publish every sample at QoS 1, ``chunk`` at a time acknowledged; seconds taken."""
    client = session(env, f"bench-pub-{os.getpid()}", clean=True)
    started = time.perf_counter()
    for i in range(0, len(samples), chunk):
        infos = [client.publish(s.topic, s.payload, qos=1) for s in samples[i : i + chunk]]
        for info in infos:
            info.wait_for_publish(60)
    took = time.perf_counter() - started
    client.disconnect()
    client.loop_stop()
    return took


def mqtt_ceiling(env: Env, client_id: str, expected: int) -> float:
    """Drain ``client_id``'s queued session counting messages; messages per second."""
    count, done = 0, threading.Event()

    def on_message(client, userdata, msg):
        nonlocal count
        count += 1
        if count >= expected:
            done.set()

    # The ingest's own client class: the ceiling is the broker's, not paho's reads.
    client = BufferedClient(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=False,
        protocol=mqtt.MQTTv311,
    )
    client.on_message = on_message
    started = time.perf_counter()
    client.connect(env.mqtt_host, env.mqtt_port, keepalive=60)
    client.loop_start()
    if not done.wait(300):
        raise RuntimeError(f"counting subscriber got {count} of {expected}")
    took = time.perf_counter() - started
    client.unsubscribe(TOPICS.subscriptions())  # nothing more queues for it
    time.sleep(0.2)
    client.disconnect()
    client.loop_stop()
    return expected / took


# ----------------------------------------------------------- database ceiling


def decode_backlog(
    samples: Sequence[Sample], url: str, limits: Limits
) -> tuple[list[tuple], dict[str, float]]:
    """The rows the good samples become, as the writer stages them, and the
    microseconds per message of ``Pipeline.process`` (route, decode, every
    validation step, with the roster's kinds and the ingest's limits) by format.
    Each message is dated 50 ms after it was sent, as if received live."""
    pipeline = Pipeline(TOPICS, limits)
    with psycopg.connect(url) as conn:
        roster = conn.execute(queries.sql("device_units")).fetchall()
    units, kinds = {d: u for d, u, _ in roster}, {d: k for d, _, k in roster}
    rows, spent, seen = [], Counter[str](), Counter[str]()
    clock = time.perf_counter
    for s in samples:
        received_at = s.at + timedelta(milliseconds=50)
        t0 = clock()
        outcome = pipeline.process(Message(s.topic, s.payload, received_at), kinds)
        spent[outcome.format or "?"] += clock() - t0
        seen[outcome.format or "?"] += 1
        if s.reason is None:
            for f in outcome.fixes:
                rows.append(stage_row(0, f, units.get(f.device_id), received_at, outcome.format))
    per_format = {f: spent[f] / seen[f] * 1e6 for f in seen}
    per_format["all"] = sum(spent.values()) / len(samples) * 1e6
    return rows, per_format


def copy_ceiling(url: str, rows: Sequence[tuple], batch: int, writers: int = 1) -> float:
    """Rows per second of the writer's own binary COPY into its stage plus its
    ``store_positions`` (history + latest state), encoding included, one
    transaction per ``batch`` rows, with nothing else to do: the database's
    ceiling. With ``writers`` > 1, as many processes each write every
    ``writers``-th row at once, as that many ingest workers would."""
    with psycopg.connect(url) as conn:
        days = sorted({r[3].date() for r in rows})
        conn.execute("SELECT ensure_position_partitions(%s, %s)", (days[0], days[-1]))
    if writers == 1:
        return len(rows) / copy_rows(url, rows, batch)
    ctx = multiprocessing.get_context("spawn")
    go = ctx.Event()
    pipes, procs = [], []
    for i in range(writers):
        ours, theirs = ctx.Pipe()
        proc = ctx.Process(target=copy_rows, args=(url, rows[i::writers], batch, go, theirs))
        proc.start()
        pipes.append(ours)
        procs.append(proc)
    time.sleep(2.0)  # every process connected and waiting
    go.set()
    took = max(pipe.recv() for pipe in pipes)
    for proc in procs:
        proc.join(30)
    return len(rows) / took


def copy_rows(
    url: str, rows: Sequence[tuple], batch: int, go: Any = None, pipe: Any = None
) -> float:
    """Seconds to write ``rows`` as :func:`copy_ceiling` says, after ``go``
    if given; also sent on ``pipe`` if given."""
    encoder = StageEncoder()
    with psycopg.connect(url) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        conn.execute(queries.sql("create_position_stage"))
        conn.commit()
        if go is not None:
            go.wait(60)
        started = time.perf_counter()
        for i in range(0, len(rows), batch):
            chunk = [(n, *row[1:]) for n, row in enumerate(rows[i : i + batch])]
            with conn.transaction():
                with conn.cursor().copy(queries.sql("copy_position_stage")) as copy:
                    copy.write(encoder.encode(chunk))
                conn.execute(queries.sql("store_positions")).fetchall()
        took = time.perf_counter() - started
    if pipe is not None:
        pipe.send(took)
    return took


@dataclass
class Accounting:
    positions: int
    quarantined: int
    lost: int
    duplicated: int
    reason_mismatches: int
    by_reason: dict[str, int]


def account(url: str, samples: Sequence[Sample]) -> Accounting:
    """Every sample stored once, as a position or in quarantine with the reason it must get."""
    expected = Counter((s.topic, s.payload, s.reason) for s in samples if s.reason)
    with psycopg.connect(url) as conn:
        pos, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT (device_id, fix_at)) FROM positions"
            " WHERE device_id NOT LIKE 'live-%'"
        ).fetchone() or (0, 0)
        got = Counter(
            (t, bytes(p), r)
            for t, p, r in conn.execute("SELECT topic, payload, reason FROM quarantine")
        )
    goods = len(samples) - sum(expected.values())
    deliberate = sum(n for (_, _, r), n in expected.items() if r == DUPLICATE)
    extra_dups = sum(n for (_, _, r), n in got.items() if r == DUPLICATE) - deliberate
    quarantined = sum(got.values())
    by_reason: Counter[str] = Counter()
    for (_, _, r), n in got.items():
        by_reason[r] += n
    return Accounting(
        positions=pos,
        quarantined=quarantined,
        lost=max(0, goods - pos) + sum((expected - got).values()),
        duplicated=(pos - distinct) + max(0, extra_dups),
        reason_mismatches=sum((expected - got).values()) + sum((got - expected).values()),
        by_reason=dict(by_reason),
    )
