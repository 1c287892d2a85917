"""The ingest benchmark's backlog: a synthetic fleet driving and walking the
sample city's roads, its reports in every terminal format, and a few per cent
bad messages whose expected quarantine reason is known."""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
from ingest_servers import TOPICS, Env

from dispatchmap.cli import load_city
from dispatchmap.runtime import create_database
from feeds.decoders import BAD_CHECKSUM, NO_FIX, UNDECODABLE
from feeds.decoders.lip import encode_short
from feeds.pipeline import DUPLICATE, FUTURE_TIME, ZERO_FIX
from feeds.simulator import nmea_rmc
from geo.earth import bearing_deg, distance_m
from geo.routing import RoadGraph
from store import city as city_store
from store.migrate import upgrade

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

ROSTER_DEVICES = (
    "SELECT d.id, d.format, COALESCE(u.kind, 'car') FROM devices d "
    "JOIN units u ON u.id = d.unit_id ORDER BY d.id"
)
INSERT_UNIT = "INSERT INTO units (id, call_sign, kind) VALUES (%s, %s, %s)"
INSERT_DEVICE = "INSERT INTO devices (id, unit_id, kind, format) VALUES (%s, %s, %s, %s)"


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
        length = distance_m(*self.nodes[self.a], *self.nodes[self.b])
        for _ in range(200):
            if self.along_m + budget_m < length:
                break
            budget_m -= length - self.along_m
            self.a, self.b = self.b, self._onward(self.b, self.a)
            self.along_m, length = 0.0, distance_m(*self.nodes[self.a], *self.nodes[self.b])
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
    car = RoadGraph(city_store.car_graph(conn))
    foot = RoadGraph([(s, t, ln, ln, ln) for s, t, ln in city_store.foot_graph(conn)])
    return Graphs(out_edges(car), out_edges(foot), city_store.node_positions(conn))


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
