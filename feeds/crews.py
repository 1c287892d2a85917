"""Simulated crews answering dispatch orders as real ones do: acknowledge
after a while (some slowly, some never), drive the road route to the
incident, get there, stay, clear and go back on patrol. What they press goes
out on ``dm/acks/{unit_id}``; arrival itself is left to the positions."""

from __future__ import annotations

import heapq
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from feeds.simulator import SimUnit
from feeds.topics import Topics

Publish = Callable[[str, bytes], object]


@dataclass(frozen=True, slots=True)
class CrewHabits:
    """Simulated seconds. A share of crews never answers, a share is slow."""

    ack_s: tuple[float, float] = (3.0, 20.0)
    slow_ack_s: tuple[float, float] = (45.0, 120.0)
    slow_share: float = 0.15
    silent_share: float = 0.05
    turnout_s: tuple[float, float] = (5.0, 40.0)
    on_scene_s: tuple[float, float] = (90.0, 300.0)
    press_onscene_share: float = 0.5


@dataclass(order=True)
class _Due:
    at_s: float
    seq: int
    unit_id: str = field(compare=False)
    step: str = field(compare=False)
    order: dict[str, Any] = field(compare=False)


class Crews:
    """Keeps each simulated unit's answer to its current order on a timeline
    measured in simulated seconds (``clock_s``, advanced by the caller)."""

    def __init__(
        self, fleet: list[SimUnit], topics: Topics, seed: int, habits: CrewHabits | None = None
    ) -> None:
        self.units = {u.unit_id: u for u in fleet}
        self.topics = topics
        self.rng = random.Random(f"crews:{seed}")
        self.habits = habits or CrewHabits()
        self.due: list[_Due] = []
        self.seen: set[str] = set()
        self._seq = 0

    def order(self, unit_id: str, payload: bytes, clock_s: float) -> None:
        """An order arrived for ``unit_id`` (redeliveries of one order are ignored)."""
        try:
            order = json.loads(payload)
            order_id = str(order["order_id"])
        except (ValueError, KeyError, TypeError):
            return
        if unit_id not in self.units or order_id in self.seen:
            return
        self.seen.add(order_id)
        h, roll = self.habits, self.rng.random()
        if roll < h.silent_share:
            return
        delay = self.rng.uniform(
            *(h.slow_ack_s if roll < h.silent_share + h.slow_share else h.ack_s)
        )
        self._at(clock_s + delay, unit_id, "ack", order)

    def _at(self, at_s: float, unit_id: str, step: str, order: dict[str, Any]) -> None:
        self._seq += 1
        heapq.heappush(self.due, _Due(at_s, self._seq, unit_id, step, order))

    def tick(self, clock_s: float, now: datetime, publish: Publish) -> None:
        """Carry out every step due by ``clock_s``; watch for arrivals."""
        while self.due and self.due[0].at_s <= clock_s:
            item = heapq.heappop(self.due)
            self._step(item, clock_s, now, publish)
        for unit in self.units.values():
            if unit.mover.parked and unit.crew_state == "driving":
                unit.crew_state = "onscene"
                if self.rng.random() < self.habits.press_onscene_share:
                    self._send(unit, unit.crew_order, "onscene", now, publish)
                self._at(
                    clock_s + self.rng.uniform(*self.habits.on_scene_s),
                    unit.unit_id,
                    "clear",
                    unit.crew_order,
                )

    def _step(self, item: _Due, clock_s: float, now: datetime, publish: Publish) -> None:
        unit, order = self.units[item.unit_id], item.order
        if item.step == "ack":
            self._send(unit, order, "ack", now, publish)
            self._at(
                clock_s + self.rng.uniform(*self.habits.turnout_s), unit.unit_id, "enroute", order
            )
        elif item.step == "enroute":
            self._send(unit, order, "enroute", now, publish)
            unit.crew_state, unit.crew_order = "driving", order
            unit.mover.go_to(unit.mover.nearest_node(order["lon"], order["lat"]))
        elif item.step == "clear":
            self._send(unit, order, "clear", now, publish)
            unit.crew_state, unit.crew_order = "patrol", {}
            unit.mover.release()

    def _send(
        self, unit: SimUnit, order: dict[str, Any], state: str, now: datetime, publish: Publish
    ) -> None:
        body = {"order_id": order.get("order_id"), "ts": now.isoformat(), "state": state}
        publish(self.topics.acks(unit.unit_id), json.dumps(body).encode())


INCIDENT_MIX = [  # (type, weight): what a city-centre station's 110 calls look like
    ("disturbance", 30),
    ("theft_in_progress", 20),
    ("traffic_accident", 20),
    ("assault", 12),
    ("missing_person", 8),
    ("fire_assist", 5),
    ("other", 5),
]
NOTES = {
    "disturbance": "noise and shouting",
    "theft_in_progress": "shoplifter held by staff",
    "traffic_accident": "two cars, no injuries reported",
    "assault": "fight outside a bar",
    "missing_person": "child separated from parents",
    "fire_assist": "smoke from a yard",
    "other": "caller reports something suspicious",
}


class Calls:
    """Simulated 110 calls: about ``per_hour`` incidents an hour (in simulated
    time) at random places on the road network, published on ``dm/incidents``."""

    def __init__(
        self, places: list[tuple[float, float]], topics: Topics, seed: int, per_hour: float
    ) -> None:
        self.places, self.topics, self.per_hour = places, topics, per_hour
        self.rng = random.Random(f"calls:{seed}")
        self.count = 0

    def tick(self, dt_s: float, now: datetime, publish: Publish) -> None:
        if self.per_hour <= 0 or self.rng.random() >= self.per_hour * dt_s / 3600.0:
            return
        kinds, weights = zip(*INCIDENT_MIX, strict=True)
        kind = self.rng.choices(kinds, weights)[0]
        lon, lat = self.rng.choice(self.places)
        self.count += 1
        body = {
            "external_id": f"110-sim-{self.rng.randrange(10**9)}-{self.count}",
            "type": kind,
            "lat": round(lat + self.rng.uniform(-3e-4, 3e-4), 6),
            "lon": round(lon + self.rng.uniform(-5e-4, 5e-4), 6),
            "reported_at": now.isoformat(),
            "notes": NOTES[kind],
        }
        publish(self.topics.incidents(), json.dumps(body).encode())
