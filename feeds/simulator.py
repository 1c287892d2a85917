"""The fleet simulator: drives the roster over the loaded road network and
publishes each unit's positions over MQTT as its devices would.

Available units patrol their home beat: cars and motorbikes drive the fastest
road route (honouring one-way streets, at the road's speed, motorbikes a
little faster in traffic) to random road nodes inside the beat, foot officers
walk to random footway nodes inside it. A route between two such nodes may
cross another beat for a moment, as real ones do; the outside-beat alarm's
grace covers that. Sent to an incident, a unit drives there wherever it is and
comes back to its beat when cleared (:mod:`feeds.crews`). Deterministic under a seed: the
simulation advances in fixed steps of ``speedup / rate_hz`` seconds, so the
same seed gives the same tracks whatever the machine's load. Timestamps are
real time (the system treats the fleet as live); ``speedup`` makes units move
that many times faster.
"""

from __future__ import annotations

import json
import queue
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from shapely import wkt

from feeds.decoders.lip import encode_short
from feeds.faults import FaultInjector

if TYPE_CHECKING:
    from feeds.crews import Calls, Crews
from feeds.topics import Topics
from geo.earth import Floats, LocalProjection, bearing_deg, distance_m
from geo.routing import RoadGraph

SPEED_FACTOR = {"car": (0.55, 0.95), "motorbike": (0.65, 1.05), "foot": (0.8, 1.2)}
WALK_KMH = 5.0
LIP_EVERY_TICKS = 15  # radios report less often than trackers
NEAR_BEAT_NODES = 30  # where a beat has no road a unit can use: patrol this many nearest nodes


@dataclass
class Mover:
    """One unit moving along a node path. ``speed_kmh_of(a, b)`` gives the
    speed on the edge a->b before the unit's own factor."""

    graph: RoadGraph
    nodes: dict[int, tuple[float, float]]
    destinations: Sequence[int]
    speed_kmh_of: Callable[[int, int], float]
    rng: random.Random
    factor: float
    path: list[int] = field(default_factory=list)
    leg: int = 0
    along_m: float = 0.0
    target: int | None = None  # set while sent somewhere: park there instead of roaming

    def go_to(self, node: int) -> bool:
        """Drive the road route to ``node`` and park there; False if unreachable."""
        here = self.path[min(self.leg + 1, len(self.path) - 1)]
        route = self.graph.path(here, node) if here != node else [node]
        if route is None:
            return False
        start = [self.path[self.leg]] if self.leg < len(self.path) - 1 else []
        self.path, self.leg, self.target = start + route, 0, node
        if not start:
            self.along_m = 0.0
        return True

    def release(self) -> None:
        """Back to patrol from wherever the unit is."""
        self.target = None
        self.path, self.leg, self.along_m = [self.path[self.leg]], 0, 0.0
        self._new_route()

    @property
    def parked(self) -> bool:
        return self.target is not None and self.leg >= len(self.path) - 1

    def nearest_node(self, lon: float, lat: float) -> int:
        """The graph node nearest (lon, lat), by great-circle distance."""
        return min(
            (int(n) for n in self.graph.node_ids),
            key=lambda n: distance_m(*self.nodes[n], lon, lat),
        )

    def start(self, node: int) -> None:
        self.path, self.leg, self.along_m = [node], 0, 0.0
        self._new_route()

    def _new_route(self) -> None:
        here = self.path[self.leg] if self.path else self.destinations[0]
        for _ in range(20):
            route = self.graph.path(here, self.rng.choice(self.destinations))
            if route and len(route) > 1:
                self.path, self.leg, self.along_m = route, 0, 0.0
                return
        self.path, self.leg, self.along_m = [here], 0, 0.0  # stuck: stand still

    def step(self, dt_s: float) -> tuple[float, float, float, float]:
        """Advance ``dt_s`` simulated seconds; returns (lon, lat, speed_kmh, heading_deg)."""
        speed_kmh = 0.0
        budget_m = None
        while self.leg < len(self.path) - 1:
            a, b = self.path[self.leg], self.path[self.leg + 1]
            speed_kmh = self.speed_kmh_of(a, b) * self.factor
            if budget_m is None:
                budget_m = speed_kmh / 3.6 * dt_s
            length = distance_m(*self.nodes[a], *self.nodes[b])
            if self.along_m + budget_m < length:
                self.along_m += budget_m
                return self._here(a, b, length, speed_kmh)
            budget_m -= length - self.along_m
            self.leg, self.along_m = self.leg + 1, 0.0
        end = self.path[-1]
        if self.target is None:
            self._new_route()
        lon, lat = self.nodes[end]
        return lon, lat, 0.0 if self.target is not None else speed_kmh, 0.0

    def _here(
        self, a: int, b: int, length: float, speed_kmh: float
    ) -> tuple[float, float, float, float]:
        (x1, y1), (x2, y2) = self.nodes[a], self.nodes[b]
        t = self.along_m / length if length > 0 else 0.0
        return x1 + (x2 - x1) * t, y1 + (y2 - y1) * t, speed_kmh, bearing_deg(x1, y1, x2, y2)


@dataclass
class SimUnit:
    unit_id: str
    call_sign: str
    kind: str
    device_id: str
    format: str
    mover: Mover
    radio_device: str | None = None
    seq: int = 0
    crew_state: str = "patrol"  # patrol / driving / onscene, for feeds.crews
    crew_order: dict[str, Any] = field(default_factory=dict)
    last_second: int | None = None  # of the last OwnTracks report

    @property
    def seq_offset(self) -> int:
        return sum(self.unit_id.encode()) % LIP_EVERY_TICKS


def _edge_speed(edges: Sequence[Sequence[float]]) -> dict[tuple[int, int], float]:
    """(a, b) -> km/h from car edge rows (source, target, cost_s, reverse_cost_s, length_m)."""
    speeds: dict[tuple[int, int], float] = {}
    for s, t, cost, rcost, length in edges:
        if cost > 0:
            speeds[(int(s), int(t))] = length / cost * 3.6
        if rcost > 0:
            speeds[(int(t), int(s))] = length / rcost * 3.6
    return speeds


def nodes_in_beat(
    beat_wkt: str | None,
    candidates: list[int],
    nodes: dict[int, tuple[float, float]],
    near: int = NEAR_BEAT_NODES,
) -> list[int]:
    """The ``candidates`` inside the beat polygon, in their order. When none
    lies inside (the beat's roads are cut off from the network a unit can
    drive both ways on), the ``near`` candidates nearest the beat, so the unit
    waits close by; with no beat, all of them."""
    if not beat_wkt or not candidates:
        return candidates
    beat = wkt.loads(beat_wkt)
    xy = np.array([nodes[n] for n in candidates])
    inside = shapely.contains_xy(beat, xy[:, 0], xy[:, 1])
    if inside.any():
        return [n for n, keep in zip(candidates, inside, strict=True) if keep]
    # Rank in metres, not degrees: a degree of longitude is cos(lat) of one of latitude.
    proj = LocalProjection(beat.centroid.x, beat.centroid.y)

    def metres(c: Floats) -> Floats:
        return np.column_stack(proj.to_xy(c[:, 0], c[:, 1]))

    gaps = shapely.distance(shapely.transform(beat, metres), shapely.points(metres(xy)))
    return [candidates[i] for i in sorted(np.argsort(gaps, kind="stable")[:near])]


def call_places(fleet: Sequence[SimUnit]) -> list[tuple[float, float]]:
    """Where simulated 110 calls happen: any node of the road network the cars
    drive on (the whole city, not one unit's beat), or of the first unit's
    network when there are no cars."""
    drivers = [u for u in fleet if u.kind != "foot"] or list(fleet)
    if not drivers:
        return []
    mover = drivers[0].mover
    return [mover.nodes[n] for n in sorted(mover.graph.largest_component())]


def build_fleet(
    roster: Sequence[dict[str, Any]],
    car_edges: Sequence[Sequence[float]],
    foot_edges: Sequence[Sequence[float]],
    nodes: dict[int, tuple[float, float]],
    seed: int,
    formats: str = "native",
) -> list[SimUnit]:
    """One :class:`SimUnit` per roster unit. ``formats="native"`` sends every
    unit as native JSON on its primary device; ``"devices"`` uses each device's
    own format (NMEA trackers, OwnTracks phones)."""
    car = RoadGraph(car_edges)
    car_nodes = sorted(car.largest_component())
    speeds = _edge_speed(car_edges)
    foot = RoadGraph([(s, t, ln, ln, ln) for s, t, ln in foot_edges])
    foot_nodes = sorted(foot.largest_component())
    fleet = []
    for row in roster:
        rng = random.Random(f"{seed}:{row['id']}")
        lo, hi = SPEED_FACTOR[row["kind"]]
        beat = row.get("beat_wkt")
        if row["kind"] == "foot":
            mine = nodes_in_beat(beat, foot_nodes, nodes)
            mover = Mover(foot, nodes, mine, lambda a, b: WALK_KMH, rng, rng.uniform(lo, hi))
            device, fmt = row["phone_device"], "owntracks"
        else:
            mover = Mover(
                car,
                nodes,
                nodes_in_beat(beat, car_nodes, nodes),
                lambda a, b: speeds.get((a, b), 20.0),
                rng,
                rng.uniform(lo, hi),
            )
            device, fmt = row["gps_device"], row["gps_format"] or "native"
        mover.start(rng.choice(mover.destinations))
        if formats == "native":
            # Native JSON needs a topic-safe id: foot officers report via their radio.
            device, fmt = row["gps_device"] or row["radio_device"], "native"
        fleet.append(
            SimUnit(
                row["id"],
                row["call_sign"],
                row["kind"],
                device,
                fmt,
                mover,
                None if formats == "native" else row["radio_device"],
            )
        )
    return fleet


def messages(
    unit: SimUnit,
    topics: Topics,
    at: datetime,
    fix: tuple[float, float, float, float],
    tick: int,
    faults: FaultInjector | None = None,
) -> list[tuple[str, bytes]]:
    """What one unit publishes at one tick: its primary device's fix (spoiled
    now and then by ``faults``), and every ``LIP_EVERY_TICKS`` ticks (staggered
    by unit) a LIP report from its radio."""
    unit.seq += 1
    if unit.format == "owntracks":
        # OwnTracks times are whole seconds: a phone reports at most once a
        # second, or two of its fixes would share a time (and one be refused).
        second = int(at.timestamp())
        if second == unit.last_second:
            return []
        unit.last_second = second
    if faults is None:
        out = [encode(unit, topics, at, fix)]
    else:
        out = faults.apply(lambda a, f: encode(unit, topics, a, f), at, fix)
    if unit.radio_device and (tick + unit.seq_offset) % LIP_EVERY_TICKS == 0:
        lon, lat, speed_kmh, heading_deg = fix
        hex_pdu = encode_short(lat, lon, speed_kmh=speed_kmh, heading_deg=heading_deg, acc_m=20.0)
        out.append((topics.lip(unit.radio_device), hex_pdu.encode()))
    return out


def encode(
    unit: SimUnit, topics: Topics, at: datetime, fix: tuple[float, float, float, float]
) -> tuple[str, bytes]:
    """(topic, payload) for one fix in the unit's device format."""
    lon, lat, speed_kmh, heading_deg = fix
    if unit.format == "owntracks":
        body: dict[str, Any] = {
            "_type": "location",
            "lat": round(lat, 7),
            "lon": round(lon, 7),
            "tst": int(at.timestamp()),
            "acc": 8,
            "tid": unit.call_sign[-2:],
        }
        if speed_kmh > 0:
            body.update(vel=round(speed_kmh), cog=round(heading_deg))
        return topics.owntracks(unit.device_id), json.dumps(body).encode()
    if unit.format == "nmea":
        return topics.nmea(unit.device_id), nmea_rmc(at, lat, lon, speed_kmh, heading_deg)
    body = {
        "lat": round(lat, 7),
        "lon": round(lon, 7),
        "ts": at.isoformat(timespec="milliseconds"),
        "speed_kmh": round(speed_kmh, 1),
        "heading_deg": round(heading_deg, 1),
        "acc_m": 5.0,
        "seq": unit.seq,
    }
    return topics.gps(unit.device_id), json.dumps(body).encode()


def nmea_rmc(at: datetime, lat: float, lon: float, speed_kmh: float, heading_deg: float) -> bytes:
    """A valid ``$GPRMC`` sentence with its checksum."""

    def dm(value: float, width: int) -> str:
        deg = int(abs(value))
        return f"{deg:0{width}d}{(abs(value) - deg) * 60:07.4f}"

    body = (
        f"GPRMC,{at:%H%M%S}.{at.microsecond // 10000:02d},A,{dm(lat, 2)},"
        f"{'N' if lat >= 0 else 'S'},{dm(lon, 3)},{'E' if lon >= 0 else 'W'},"
        f"{speed_kmh / 1.852:.1f},{heading_deg:.1f},{at:%d%m%y},,,A"
    )
    checksum = 0
    for ch in body.encode():
        checksum ^= ch
    return f"${body}*{checksum:02X}\r\n".encode()


class Inbox:
    """Orders received on the network thread, handed to the simulation loop."""

    def __init__(self) -> None:
        self._items: queue.SimpleQueue[tuple[str, bytes]] = queue.SimpleQueue()

    def put(self, unit_id: str, payload: bytes | bytearray) -> None:
        self._items.put((unit_id, bytes(payload)))

    def drain(self) -> list[tuple[str, bytes]]:
        out = []
        while True:
            try:
                out.append(self._items.get_nowait())
            except queue.Empty:
                return out


def drive(
    fleet: list[SimUnit],
    topics: Topics,
    publish: Callable[[str, bytes], object],
    stop: threading.Event,
    *,
    rate_hz: float,
    speedup: float,
    duration_s: float | None,
    faults: FaultInjector | None = None,
    crews: Crews | None = None,
    inbox: Inbox | None = None,
    calls: Calls | None = None,
) -> int:
    """Run the fleet until ``stop`` is set or ``duration_s`` real seconds pass;
    returns the number of ticks. Fixes are stamped with each tick's scheduled
    time, not the time the loop got round to it, so one device's fixes stay
    exactly one period apart even under load."""
    period_s = 1.0 / rate_hz
    dt_s = period_s * speedup
    tick, started, started_at = 0, time.monotonic(), datetime.now(UTC)
    while not stop.is_set() and (duration_s is None or tick * period_s < duration_s):
        at = started_at + timedelta(seconds=tick * period_s)
        clock_s = tick * dt_s
        if crews is not None:
            for unit_id, payload in inbox.drain() if inbox else []:
                crews.order(unit_id, payload, clock_s)
            crews.tick(clock_s, at, publish)
        if calls is not None:
            calls.tick(dt_s, at, publish)
        for unit in fleet:
            for topic, payload in messages(unit, topics, at, unit.mover.step(dt_s), tick, faults):
                publish(topic, payload)
        tick += 1
        stop.wait(max(0.0, started + tick * period_s - time.monotonic()))
    return tick
