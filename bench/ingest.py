"""Benchmark: how fast the ingest drains a broker backlog into PostGIS.

A realistic backlog is built in memory: thousands of devices driving or
walking the sample city's roads (native JSON and NMEA trackers, OwnTracks
phones, TETRA LIP radios), each report plausible after the last, plus a few
per cent bad messages whose expected quarantine reason is known (garbage,
(0,0) fixes, future times, bad NMEA checksums, no-fix NMEA, duplicates).
It is published once, while every subscriber is away, into the persistent
QoS 1 sessions of

1. ``mqtt_ceiling``: a paho subscriber that only counts (the broker's ceiling);
2. ``ingest``: a real :class:`feeds.ingest.IngestWorker` (in this process, on
   its own thread, configured as ``dispatchmap ingest`` is) on a fresh database,

and in the same run ``copy_ceiling`` writes the decoded good rows with the
writer's own statements (binary COPY into the stage, then ``store_positions``:
history insert plus both latest-state upserts), one transaction per batch, on
another fresh database: the database's ceiling. Then a live stream at a fixed
rate runs through the same worker, from a separate publisher process; its
latency is the commit timestamp of the transaction that stored a row
(``track_commit_timestamp``) minus the wall time at which the publisher built
and published the message (carried as the native ``ts``, in microseconds).

Run from the repository root with DATABASE_URL / MQTT_URL unset (private
servers under a temp folder): ``.venv/bin/python bench/ingest.py``. With
``py-spy`` on PATH (or ``--py-spy``) the drain is sampled and the time of the
worker's threads is broken down. The last line is the figure the README quotes.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
from psycopg import sql

from dispatchmap.cli import load_city
from dispatchmap.runtime import create_database
from dispatchmap.services import EmbeddedMosquitto, EmbeddedPostgres
from dispatchmap.settings import IngestSettings, ServerSettings, mqtt_host_port
from feeds.decoders import BAD_CHECKSUM, NO_FIX, UNDECODABLE, Fix
from feeds.decoders.lip import encode_short
from feeds.ingest import IngestWorker
from feeds.mqtt_client import BufferedClient
from feeds.pipeline import DUPLICATE, FUTURE_TIME, ZERO_FIX, Limits, Message, Pipeline
from feeds.simulator import distance_m, nmea_rmc
from feeds.topics import Topics
from feeds.writer import StageEncoder
from geo import queries
from geo.migrate import upgrade
from geo.routing import RoadGraph
from geo.sample import bearing_deg

TOPICS = Topics()
REPORT_EVERY_S = 5.0
# Share of each fault among the bad messages, and the formats that can carry it.
FAULTS = {
    "garbage": (0.20, ("native", "nmea", "owntracks", "lip")),
    "zero_fix": (0.20, ("native", "nmea", "owntracks", "lip")),
    "future_time": (0.20, ("native", "nmea", "owntracks")),
    "bad_checksum": (0.15, ("nmea",)),
    "no_fix": (0.05, ("nmea",)),
    "duplicate": (0.20, ("native", "nmea", "owntracks")),
}
EXPECTED_REASON = {
    "garbage": UNDECODABLE,
    "zero_fix": ZERO_FIX,
    "future_time": FUTURE_TIME,
    "bad_checksum": BAD_CHECKSUM,
    "no_fix": NO_FIX,
    "duplicate": DUPLICATE,
}
# Synthetic fleet: (unit kind, device format, device kind in the devices table, share).
FLEET_MIX = (
    ("car", "native", "gps", 0.24),
    ("car", "nmea", "gps", 0.21),
    ("car", "lip", "radio", 0.15),
    ("foot", "owntracks", "phone", 0.28),
    ("foot", "lip", "radio", 0.12),
)
UNKNOWN_SHARE = 0.05  # synthetic devices left off the roster: stored as unknown devices
MAX_UNACKED = 10_000  # live publisher's cap on messages the broker has not acknowledged

ROSTER_DEVICES = (
    "SELECT d.id, d.format, COALESCE(u.kind, 'car') FROM devices d "
    "JOIN units u ON u.id = d.unit_id ORDER BY d.id"
)
INSERT_UNIT = "INSERT INTO units (id, call_sign, kind) VALUES (%s, %s, %s)"
INSERT_DEVICE = "INSERT INTO devices (id, unit_id, kind, format) VALUES (%s, %s, %s, %s)"
LIVE_LATENCY = (
    "SELECT count(*), percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY lag_s),"
    " max(lag_s) FROM (SELECT extract(epoch FROM pg_xact_commit_timestamp(xmin) - fix_at)"
    " AS lag_s FROM positions WHERE device_id LIKE 'live-%%') AS x"
)


# ---------------------------------------------------------------- the fleet


class RoadWalk:
    """A device moving along a road graph at a steady speed, taking a random
    onward edge at every node (turning back only at dead ends). Confined to
    the graph's largest strongly connected part, so it never gets stuck."""

    def __init__(self, out: dict[int, list[int]], nodes, rng: random.Random, speed_kmh: float):
        self.out, self.nodes, self.rng, self.speed_kmh = out, nodes, rng, speed_kmh
        self.a = rng.choice(list(out))
        self.b = self._onward(self.a, None)
        self.along_m = 0.0

    def _onward(self, node: int, came_from: int | None) -> int:
        choices = self.out[node]
        return self.rng.choice([n for n in choices if n != came_from] or choices)

    def step(self, dt_s: float) -> tuple[float, float, float, float]:
        """Advance ``dt_s`` seconds; (lon, lat, speed_kmh, heading_deg)."""
        budget_m = self.speed_kmh / 3.6 * dt_s
        length = distance_m(self.nodes[self.a], self.nodes[self.b])
        for _ in range(200):
            if self.along_m + budget_m < length:
                break
            budget_m -= length - self.along_m
            self.a, self.b = self.b, self._onward(self.b, self.a)
            self.along_m, length = 0.0, distance_m(self.nodes[self.a], self.nodes[self.b])
        self.along_m += budget_m
        (x1, y1), (x2, y2) = self.nodes[self.a], self.nodes[self.b]
        t = min(self.along_m / length, 1.0) if length > 0 else 0.0
        return x1 + (x2 - x1) * t, y1 + (y2 - y1) * t, self.speed_kmh, bearing_deg(x1, y1, x2, y2)


def out_edges(graph: RoadGraph) -> dict[int, list[int]]:
    """Node -> nodes reachable by one edge, within the largest strongly connected part."""
    keep = set(graph.largest_component())
    out: dict[int, list[int]] = defaultdict(list)
    for a, b in graph.cost:
        if a in keep and b in keep:
            out[a].append(b)
    return dict(out)


@dataclass
class Device:
    id: str  # as the ingest names it (``owntracks/<user>/<device>`` for phones)
    fmt: str
    kind: str  # car | foot (motorbikes drive the car graph)
    walk: RoadWalk
    seq: int = 0

    def topic(self) -> str:
        if self.fmt == "owntracks":
            return TOPICS.owntracks(self.id)
        return {"native": TOPICS.gps, "nmea": TOPICS.nmea, "lip": TOPICS.lip}[self.fmt](self.id)

    def payload(self, at: datetime, fix: tuple[float, float, float, float]) -> bytes:
        """This device's report of ``fix`` taken at ``at``, in its own format."""
        lon, lat, speed_kmh, heading_deg = fix
        self.seq += 1
        if self.fmt == "nmea":
            return nmea_rmc(at, lat, lon, speed_kmh, heading_deg)
        if self.fmt == "lip":
            hex_pdu = encode_short(
                lat, lon, speed_kmh=speed_kmh, heading_deg=heading_deg, acc_m=20.0
            )
            return hex_pdu.encode()
        if self.fmt == "owntracks":
            body: dict = {"_type": "location", "lat": round(lat, 7), "lon": round(lon, 7)}
            body.update(tst=int(at.timestamp()), acc=8, tid=self.id[-2:], batt=80)
            if speed_kmh > 0:
                body.update(vel=round(speed_kmh), cog=round(heading_deg))
            return json.dumps(body).encode()
        return json.dumps(
            {
                "lat": round(lat, 7),
                "lon": round(lon, 7),
                "ts": at.isoformat(timespec="milliseconds"),
                "speed_kmh": round(speed_kmh, 1),
                "heading_deg": round(heading_deg, 1),
                "acc_m": 5.0,
                "sats": 9,
                "seq": self.seq,
            }
        ).encode()


@dataclass(frozen=True)
class Graphs:
    car: dict[int, list[int]]
    foot: dict[int, list[int]]
    nodes: dict[int, tuple[float, float]]


def read_graphs(conn: psycopg.Connection) -> Graphs:
    car = RoadGraph(queries.car_graph(conn))
    foot = RoadGraph([(s, t, ln, ln, ln) for s, t, ln in queries.foot_graph(conn)])
    return Graphs(out_edges(car), out_edges(foot), queries.node_positions(conn))


def walker(graphs: Graphs, kind: str, rng: random.Random) -> RoadWalk:
    if kind == "foot":
        return RoadWalk(graphs.foot, graphs.nodes, rng, rng.uniform(3.5, 6.5))
    return RoadWalk(graphs.car, graphs.nodes, rng, rng.uniform(18.0, 55.0))


def synthetic_fleet(count: int, graphs: Graphs, rng: random.Random) -> list[tuple[Device, str]]:
    """``count`` synthetic devices and the devices-table kind of each."""
    weights = [share for *_, share in FLEET_MIX]
    out = []
    for i in range(count):
        kind, fmt, table_kind, _ = rng.choices(FLEET_MIX, weights)[0]
        device_id = {
            "native": f"bench-g{i:05d}",
            "nmea": f"bench-n{i:05d}",
            "lip": f"36{i:05d}",
            "owntracks": f"owntracks/bench/p{i:05d}",
        }[fmt]
        out.append((Device(device_id, fmt, kind, walker(graphs, kind, rng)), table_kind))
    return out


def register(
    conn: psycopg.Connection, fleet: Sequence[tuple[Device, str]], prefix: str, unknown: float
) -> None:
    """One synthetic unit per device, all on the roster except the ``unknown`` share."""
    known = fleet[: round(len(fleet) * (1 - unknown))]
    units = [(f"{prefix}{i:05d}", f"{prefix}-{i:05d}", d.kind) for i, (d, _) in enumerate(known)]
    devices = [(d.id, u[0], k, d.fmt) for (d, k), u in zip(known, units, strict=True)]
    with conn.cursor() as cur:
        cur.executemany(INSERT_UNIT, units)
        cur.executemany(INSERT_DEVICE, devices)


# ------------------------------------------------------------- the backlog


@dataclass(frozen=True, slots=True)
class Sample:
    at: datetime  # when the device sent it (backlog order)
    topic: str
    payload: bytes
    reason: str | None  # the quarantine reason it must get; None: a good position


def good_samples(devices: Sequence[Device], count: int, end_at: datetime, rng) -> list[Sample]:
    """``count`` good reports, round robin over ``devices``, every device every
    ``REPORT_EVERY_S`` (staggered), the last ones just before ``end_at``."""
    per_device = [count // len(devices) + (i < count % len(devices)) for i in range(len(devices))]
    start_at = end_at - timedelta(seconds=REPORT_EVERY_S * (max(per_device) + 1))
    out = []
    for device, n in zip(devices, per_device, strict=True):
        at = start_at + timedelta(milliseconds=rng.randrange(int(REPORT_EVERY_S * 1000)))
        for _ in range(n):
            fix = device.walk.step(REPORT_EVERY_S)
            out.append(Sample(at, device.topic(), device.payload(at, fix), None))
            at += timedelta(seconds=REPORT_EVERY_S)
    return out


def bad_payload(fault: str, device: Device, at: datetime, rng: random.Random) -> bytes:
    here = device.walk.step(0.0)
    if fault == "garbage":
        return b"\xff\xfe" + rng.randbytes(rng.randrange(8, 60))
    if fault == "zero_fix":
        return device.payload(at, (0.0, 0.0, 0.0, 0.0))
    if fault == "future_time":
        return device.payload(at + timedelta(days=1), here)
    lon, lat, speed_kmh, heading_deg = here
    sentence = nmea_rmc(at, lat, lon, speed_kmh, heading_deg)
    if fault == "no_fix":
        sentence = sentence.replace(b",A,", b",V,", 1)
        body = sentence[1 : sentence.index(b"*")]
        checksum = 0
        for ch in body:
            checksum ^= ch
        return b"$" + body + f"*{checksum:02X}\r\n".encode()
    star = sentence.index(b"*")
    wrong = (int(sentence[star + 1 : star + 3], 16) + 1 + rng.randrange(254)) % 256
    return sentence[: star + 1] + f"{wrong:02X}\r\n".encode()


def bad_samples(
    devices: Sequence[Device], goods: Sequence[Sample], count: int, rng: random.Random
) -> list[Sample]:
    """``count`` bad messages from the fleet's devices, each fault by its share."""
    by_format: dict[str, list[Device]] = defaultdict(list)
    for d in devices:
        by_format[d.fmt].append(d)
    dupable = [s for s in goods if not s.topic.startswith(f"{TOPICS.prefix}/lip/")]
    first_at, last_at = goods[0].at, max(s.at for s in goods)
    out = []
    faults = list(FAULTS)
    weights = [FAULTS[f][0] for f in faults]
    for fault in rng.choices(faults, weights, k=count):
        if fault == "duplicate":
            original = rng.choice(dupable)
            later = original.at + timedelta(seconds=rng.uniform(0.5, 30))
            out.append(Sample(later, original.topic, original.payload, DUPLICATE))
            continue
        fmt = rng.choice([f for f in FAULTS[fault][1] if by_format[f]])
        device = rng.choice(by_format[fmt])
        at = first_at + (last_at - first_at) * rng.random()
        payload = bad_payload(fault, device, at, rng)
        out.append(Sample(at, device.topic(), payload, EXPECTED_REASON[fault]))
    return out


def build_backlog(
    devices: Sequence[Device], messages: int, bad_share: float, seed: int
) -> list[Sample]:
    rng = random.Random(seed)
    n_bad = round(messages * bad_share)
    goods = good_samples(devices, messages - n_bad, datetime.now(UTC), rng)
    goods.sort(key=lambda s: s.at)
    bads = bad_samples(devices, goods, n_bad, rng)
    return sorted(goods + bads, key=lambda s: s.at)


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
        extent = queries.city_extent(conn)
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


def create_session(env: Env, client_id: str) -> None:
    """Subscribe ``client_id`` to the ingest's filters, then leave: the broker queues for it."""
    client = session(env, client_id)
    done = threading.Event()
    client.on_subscribe = lambda *a: done.set()
    client.subscribe([(f, 1) for f in TOPICS.subscriptions()])
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
                rows.append(row_of(f, units.get(f.device_id), received_at, outcome.format))
    per_format = {f: spent[f] / seen[f] * 1e6 for f in seen}
    per_format["all"] = sum(spent.values()) / len(samples) * 1e6
    return rows, per_format


def row_of(f: Fix, unit: str | None, received_at: datetime, source: str | None) -> tuple:
    return (
        0,  # the stage row number, replaced when a batch is encoded
        f.device_id,
        unit,
        f.fix_at,
        received_at,
        f.lon,
        f.lat,
        f.speed_kmh,
        f.heading_deg,
        f.acc_m,
        f.alt_m,
        source,
    )


def copy_ceiling(url: str, rows: Sequence[tuple], batch: int) -> tuple[float, float]:
    """Rows per second and mean seconds per batch of the writer's own binary
    COPY into its stage plus its ``store_positions`` (history + latest state),
    encoding included, in one thread with nothing else to do."""
    encoder = StageEncoder()
    with psycopg.connect(url) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        days = sorted({r[3].date() for r in rows})
        conn.execute("SELECT ensure_position_partitions(%s, %s)", (days[0], days[-1]))
        conn.execute(queries.sql("create_position_stage"))
        conn.commit()
        started = time.perf_counter()
        for i in range(0, len(rows), batch):
            chunk = [(n, *row[1:]) for n, row in enumerate(rows[i : i + batch])]
            with conn.transaction():
                with conn.cursor().copy(queries.sql("copy_position_stage")) as copy:
                    copy.write(encoder.encode(chunk))
                conn.execute(queries.sql("store_positions")).fetchall()
        took = time.perf_counter() - started
    return len(rows) / took, took / -(-len(rows) // batch)


# ------------------------------------------------------------------ ingest


def new_worker(env: Env, url: str, client_id: str, limits: Limits) -> IngestWorker:
    cfg = IngestSettings()
    return IngestWorker(
        mqtt_host=env.mqtt_host,
        mqtt_port=env.mqtt_port,
        database_url=url,
        topics=TOPICS,
        pipeline=Pipeline(TOPICS, limits),
        client_id=client_id,
        batch_max=cfg.batch_max,
        batch_wait_ms=cfg.batch_wait_ms,
        queue_max=cfg.queue_max,
    )


def wait_received(worker: IngestWorker, total: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while worker.stats.received < total:
        if time.monotonic() > deadline:
            raise RuntimeError(f"ingest took {worker.stats.received} of {total} in time")
        time.sleep(0.01)


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


# ------------------------------------------------------------- live stream


def live_publisher(env: Env, graphs: Graphs, ids: list[str], rate: float, seconds: float, pipe):
    """(In a process of its own.) Publish native fixes of ``ids`` round robin at
    ``rate`` a second for ``seconds``; ``ts`` is the wall time of publishing."""
    rng = random.Random(7)
    walks = [walker(graphs, "car", rng) for _ in ids]
    topics = [TOPICS.gps(i) for i in ids]
    last = [time.time()] * len(ids)
    acked = 0

    def on_publish(*_):
        nonlocal acked
        acked += 1

    # A paho publisher with too many unacknowledged messages stalls (DOMAIN):
    # hold back, and count it, when the broker is that far behind.
    client = session(env, f"bench-live-{os.getpid()}", clean=True, inflight=MAX_UNACKED)
    client.on_publish = on_publish
    sent, held_s, started = 0, 0.0, time.monotonic()
    while (elapsed := time.monotonic() - started) < seconds:
        while sent < elapsed * rate and sent - acked < MAX_UNACKED:
            k = sent % len(ids)
            now = time.time()
            lon, lat, speed_kmh, heading_deg = walks[k].step(now - last[k])
            last[k] = now
            payload = (
                f'{{"lat": {lat:.7f}, "lon": {lon:.7f}, "speed_kmh": {speed_kmh:.1f}, '
                f'"heading_deg": {heading_deg:.1f}, "acc_m": 5.0, "seq": {sent}, '
                f'"ts": "{datetime.now(UTC).isoformat()}"}}'
            )
            client.publish(topics[k], payload.encode(), qos=1)
            sent += 1
        held_s += 0.002 if sent - acked >= MAX_UNACKED else 0.0
        time.sleep(0.002)
    took = time.monotonic() - started
    deadline = time.monotonic() + 120
    while acked < sent and time.monotonic() < deadline:
        time.sleep(0.05)
    client.disconnect()
    client.loop_stop()
    pipe.send((sent, took, held_s))


def live_stream(env, graphs, worker, url, ids, rate, seconds, already: int) -> dict[str, float]:
    """Run the live publisher against the running worker; latency percentiles (ms)."""
    ctx = multiprocessing.get_context("spawn")
    ours, theirs = ctx.Pipe()
    proc = ctx.Process(target=live_publisher, args=(env, graphs, ids, rate, seconds, theirs))
    proc.start()
    if not ours.poll(seconds + 120):
        proc.kill()
        raise RuntimeError(f"the live publisher did not finish (exit code {proc.exitcode})")
    sent, took, held_s = ours.recv()
    proc.join(30)
    wait_received(worker, already + sent, 120)
    with psycopg.connect(url) as conn:
        row = conn.execute(LIVE_LATENCY).fetchone()
    assert row is not None
    count, (p50, p95, p99), worst = row[0], row[1] or (None,) * 3, row[2]
    ms = {k: (v or 0.0) * 1000 for k, v in (("p50", p50), ("p95", p95), ("p99", p99))}
    return {
        "sent": sent,
        "rate": sent / took,
        "stored": count,
        "held_s": held_s,
        "max": (worst or 0) * 1000,
        **ms,
    }


# ------------------------------------------------------------------ profile


@contextmanager
def sampled(py_spy: str | None, out: Path) -> Iterator[None]:
    """Sample this process with py-spy (idle included) while the block runs."""
    if py_spy is None:
        yield
        return
    args = [py_spy, "record", "--pid", str(os.getpid()), "--format", "raw", "--idle"]
    args += ["--threads", "--rate", "100", "--nonblocking", "-o", str(out)]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # py-spy attaches
    try:
        yield
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)


# Frames that say where a writer-thread sample is: first match from the leaf wins.
WHERE = (
    ("store_positions/COPY execute (DB)", ("_write_positions",)),
    ("quarantine COPY (DB)", ("_write_quarantine",)),
    ("prepare: device refresh + last_fixes (DB)", ("prepare",)),
    ("pipeline.process (decode+validate)", ("process (feeds/pipeline.py",)),
    ("mark duplicates", ("_mark_duplicates",)),
    ("commit (DB)", ("__exit__ (psycopg/transaction.py",)),
    ("acks to paho", ("_ack",)),
    ("metrics", ("observe_batch",)),
    ("waiting for a batch (queue)", ("_take_batch",)),
)


def profile_report(path: Path) -> list[str]:
    """Per-thread breakdown of py-spy's raw samples (idle included: wall time)."""
    if not path.exists():
        return ["py-spy wrote no profile"]
    threads: dict[str, Counter[str]] = defaultdict(Counter)
    for line in path.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        frames = stack.split(";")
        thread = frames[1] if len(frames) > 1 and frames[0].startswith("process") else frames[0]
        threads[thread][classify(frames)] += int(n)
    lines = []
    for thread, where in sorted(threads.items(), key=lambda t: -sum(t[1].values())):
        total = sum(where.values())
        if total < 50:
            continue
        parts = ", ".join(f"{k} {v / total:.0%}" for k, v in where.most_common(8))
        lines.append(f"  {thread} ({total} samples): {parts}")
    return lines


def classify(frames: Sequence[str]) -> str:
    text = ";".join(frames)
    for label, needles in WHERE:
        if any(n in text for n in needles):
            return label
    if "_on_message" in text:
        return "paho on_message (queue.put)"
    if "paho" in text:
        return "paho network loop"
    return frames[-1].split(" (")[0] if frames else "?"


# --------------------------------------------------------------------- main


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--messages", type=int, default=200_000, help="backlog size")
    p.add_argument("--devices", type=int, default=3_000, help="devices in the backlog")
    p.add_argument("--bad-share", type=float, default=0.03, help="share of bad messages")
    p.add_argument("--live-rate", type=float, default=5_000.0, help="live msgs/s")
    p.add_argument("--live-seconds", type=float, default=20.0)
    p.add_argument("--live-devices", type=int, default=3_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--py-spy", default=shutil.which("py-spy"), help="py-spy binary (optional)")
    return p.parse_args()


def say(label: str, value: str, meaning: str) -> None:
    print(f"{label:<24} {value:<16} {meaning}", flush=True)


def prepare_template(env: Env, args) -> tuple[list[Device], Graphs, list[str]]:
    """Template database: migrations, the sample city, the roster and synthetic fleet."""
    url = create_database(env.admin_url, "bench_template")
    with psycopg.connect(url) as conn:
        upgrade(conn)
    load_city(url, None, None, 1)
    rng = random.Random(args.seed)
    with psycopg.connect(url) as conn:
        graphs = read_graphs(conn)
        roster = [
            Device(d, f, "foot" if k == "foot" else "car", walker(graphs, k, rng))
            for d, f, k in conn.execute(ROSTER_DEVICES)
        ]
        synthetic = synthetic_fleet(max(args.devices - len(roster), 0), graphs, rng)
        register(conn, synthetic, "BU", UNKNOWN_SHARE)
        live_ids = [f"live-{i:05d}" for i in range(args.live_devices)]
        live = [(Device(i, "native", "car", walker(graphs, "car", rng)), "gps") for i in live_ids]
        register(conn, live, "LU", 0.0)
    return roster + [d for d, _ in synthetic], graphs, live_ids


def run(args: argparse.Namespace) -> None:
    t_start = time.perf_counter()
    # A SIGTERM (timeout, CI) unwinds the stack, so the private servers are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    say(
        "load",
        " ".join(f"{x:.1f}" for x in os.getloadavg()),
        "machine load average "
        f"(1/5/15 min) at start on {os.cpu_count()} CPUs: other work skews every figure",
    )
    batch = IngestSettings().batch_max
    with ExitStack() as stack:
        env = stack.enter_context(servers(stack))
        devices, graphs, live_ids = prepare_template(env, args)
        t0 = time.perf_counter()
        samples = build_backlog(devices, args.messages, args.bad_share, args.seed)
        n_bad = sum(1 for s in samples if s.reason)
        say(
            "backlog",
            f"{len(samples)}",
            f"messages from {len(devices)} devices, {n_bad} bad "
            f"({time.perf_counter() - t0:.1f} s to build)",
        )
        formats = Counter(
            s.topic.split("/")[1] if s.topic.startswith("dm/") else "owntracks" for s in samples
        )
        say("formats", " ".join(f"{k}={v}" for k, v in sorted(formats.items())), "topics")
        tag = f"{os.getpid()}"
        counter_id, ingest_id = f"bench-count-{tag}", f"bench-ingest-{tag}"
        create_session(env, counter_id)
        create_session(env, ingest_id)
        took = publish_backlog(env, samples)
        say("publish", f"{len(samples) / took:,.0f}", "msg/s the publisher queued (not timed)")

        mqtt_rate = mqtt_ceiling(env, counter_id, len(samples))
        say("mqtt_ceiling", f"{mqtt_rate:,.0f}", "msg/s a counting QoS 1 subscriber drains")

        copy_url = fresh_database(env, "bench_copy", "bench_template")
        ingest_url = fresh_database(env, "bench_ingest", "bench_template")
        limits = ingest_limits(ingest_url)
        rows, per_msg = decode_backlog(samples, copy_url, limits)
        copy_rate, copy_batch_s = copy_ceiling(copy_url, rows, batch)
        say(
            "copy_ceiling",
            f"{copy_rate:,.0f}",
            f"rows/s binary COPY + store_positions, "
            f"{len(rows)} rows, {copy_batch_s * 1000:.1f} ms per {batch}-row batch",
        )

        say(
            "pipeline_us",
            f"{per_msg['all']:.1f}",
            "µs/msg Pipeline.process alone: "
            + ", ".join(f"{k} {v:.1f}" for k, v in sorted(per_msg.items()) if k != "all"),
        )

        worker = new_worker(env, ingest_url, ingest_id, limits)
        profile = Path(tempfile.gettempdir()) / f"dm-bench-ingest-{tag}.txt"
        with sampled(args.py_spy, profile):
            started, cpu = time.perf_counter(), os.times()
            worker.start()
            thread = threading.Thread(target=worker.run, name="writer", daemon=True)
            thread.start()
            wait_received(worker, len(samples), 600)
            drain_s = time.perf_counter() - started
            cpu_s = sum(os.times()[:2]) - sum(cpu[:2])
        stack.callback(thread.join, 10)
        stack.callback(worker.stop)
        ingest_rate = len(samples) / drain_s
        say("ingest", f"{ingest_rate:,.0f}", f"msg/s drained and committed ({drain_s:.1f} s)")
        say(
            "ingest_cpu_us",
            f"{cpu_s / len(samples) * 1e6:.0f}",
            "µs of this process's CPU "
            f"per message in the drain ({cpu_s / drain_s:.2f} cores busy; PostgreSQL's apart)",
        )
        acc = account(ingest_url, samples)
        report_drain(worker, acc, drain_s, per_msg["all"], len(samples))
        if args.py_spy:
            print("where the drain's wall time goes (py-spy, per thread):")
            for line in profile_report(profile):
                print(line)

        live = live_stream(
            env,
            graphs,
            worker,
            ingest_url,
            live_ids,
            args.live_rate,
            args.live_seconds,
            worker.stats.received,
        )
        p95 = live["p95"] if env.commit_ts else float("nan")
        say(
            "live",
            f"{live['rate']:,.0f}",
            f"msg/s published for {args.live_seconds:.0f} s, "
            f"{live['sent']} sent, {live['stored']} stored, publisher held back "
            f"{live['held_s']:.1f} s by unacknowledged messages",
        )
        say(
            "p95_commit_ms",
            f"{p95:.0f}",
            f"publish() wall time -> commit timestamp; "
            f"p50 {live['p50']:.0f} ms, p99 {live['p99']:.0f} ms, max {live['max']:.0f} ms",
        )
        lost = acc.lost + max(0, live["sent"] - live["stored"])
        ratio = ingest_rate / min(mqtt_rate, copy_rate)
        say(
            "total",
            f"{time.perf_counter() - t_start:.0f} s",
            "whole benchmark; load average now " + " ".join(f"{x:.1f}" for x in os.getloadavg()),
        )
        print(
            f"ingest msgs_per_s={ingest_rate:.0f} mqtt_ceiling={mqtt_rate:.0f} "
            f"copy_ceiling={copy_rate:.0f} ratio={ratio:.2f} p95_commit_ms={p95:.0f} "
            f"lost={lost} duplicated={acc.duplicated}",
            flush=True,
        )


def report_drain(worker, acc: Accounting, drain_s: float, pipeline_us: float, n: int) -> None:
    s = worker.stats
    reg = worker.metrics.registry
    batch_sum = reg.get_sample_value("dm_ingest_batch_seconds_sum") or 0.0
    batches = reg.get_sample_value("dm_ingest_batch_seconds_count") or 1.0
    say(
        "accounted",
        f"{acc.positions + acc.quarantined}",
        f"= {acc.positions} positions + "
        f"{acc.quarantined} quarantined; lost {acc.lost}, duplicated {acc.duplicated}",
    )
    say(
        "reasons",
        f"{acc.reason_mismatches} wrong",
        "quarantine rows vs the expected reason: "
        + ", ".join(f"{k} {v}" for k, v in sorted(acc.by_reason.items())),
    )
    say(
        "batches",
        f"{s.batches}",
        f"mean {s.received / max(s.batches, 1):.0f} msgs, "
        f"{batch_sum / batches * 1000:.1f} ms each (prepare+pipeline+write+commit)",
    )
    say(
        "batch_share",
        f"{batch_sum / drain_s:.0%}",
        "of the drain spent inside batches; "
        f"pipeline alone would be {pipeline_us * n / 1e6 / drain_s:.0%}",
    )


if __name__ == "__main__":
    run(parse_args())
