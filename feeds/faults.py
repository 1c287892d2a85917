"""Fault injection for the simulator: a configurable share of messages is
spoiled the way real terminals and networks spoil them, and every injected
fault is labelled on a side channel (a JSON-lines file), never in the payload.

A label names the fault kind, the topic, the SHA-256 of the payload as sent
and the reason code the ingest should give it, so a benchmark can compare
what the ingest refused (``quarantine.payload``) with what was injected.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO

Fix4 = tuple[float, float, float, float]  # lon, lat, speed_kmh, heading_deg
# (at, fix) -> (topic, payload): the simulator's encoder for one unit.
Encoder = Callable[[datetime, Fix4], tuple[str, bytes]]

KINDS = ("jump", "zero", "future", "duplicate", "bad_checksum", "garbage", "unknown_device")
EXPECTED_REASON = {
    "jump": "gps_jump",
    "zero": "zero_fix",
    "future": "future_time",
    "duplicate": "duplicate",
    "bad_checksum": "bad_checksum",
    "garbage": "undecodable",
    "unknown_device": None,
}
JUMP_DEG = 0.018  # about 2 km north: impossible in seconds, still inside the area checked


@dataclass(frozen=True, slots=True)
class Label:
    kind: str
    topic: str
    sha256: str
    expected_reason: str | None

    def to_json(self) -> str:
        return json.dumps(
            {
                "kind": self.kind,
                "topic": self.topic,
                "sha256": self.sha256,
                "expected_reason": self.expected_reason,
            }
        )


def sha256(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


class FaultInjector:
    """Spoils about ``rate`` of the messages handed to :meth:`apply`.

    ``kinds`` limits the mix; ``bad_checksum`` applies only to NMEA topics
    (another format falls back to ``garbage``). Deterministic for a seed.
    """

    def __init__(
        self, rate: float, seed: int, labels: IO[str] | None = None, kinds: tuple[str, ...] = KINDS
    ) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError("fault rate is a share between 0 and 1")
        unknown = set(kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds: {sorted(unknown)}")
        self.rate = rate
        self.rng = random.Random(f"faults:{seed}")
        self.labels = labels
        self.kinds = kinds
        self.injected: dict[str, int] = dict.fromkeys(kinds, 0)

    def apply(self, encode: Encoder, at: datetime, fix: Fix4) -> list[tuple[str, bytes]]:
        """The messages to publish for one fix: the good one, or a spoiled set."""
        topic, payload = encode(at, fix)
        if self.rate == 0 or self.rng.random() >= self.rate:
            return [(topic, payload)]
        kind = self.rng.choice(self.kinds)
        if kind == "bad_checksum" and "/nmea/" not in topic:
            kind = "garbage"
        out = self._spoil(kind, encode, at, fix, topic, payload)
        self.injected[kind] = self.injected.get(kind, 0) + 1
        return out

    def _spoil(
        self, kind: str, encode: Encoder, at: datetime, fix: Fix4, topic: str, payload: bytes
    ) -> list[tuple[str, bytes]]:
        lon, lat, speed, heading = fix
        if kind == "duplicate":
            self._label(kind, topic, payload)
            return [(topic, payload), (topic, payload)]
        if kind == "jump":
            spoiled = encode(at, (lon, lat + JUMP_DEG, speed, heading))
        elif kind == "zero":
            spoiled = encode(at, (0.0, 0.0, speed, heading))
        elif kind == "future":
            spoiled = encode(at + timedelta(days=1), fix)
        elif kind == "bad_checksum":
            spoiled = (topic, _break_checksums(payload))
        elif kind == "unknown_device":
            spoiled = (topic.rsplit("/", 1)[0] + f"/ghost-{self.rng.randrange(10**6)}", payload)
        else:
            spoiled = (topic, self.rng.randbytes(self.rng.randrange(1, 40)))
        self._label(kind, *spoiled)
        return [spoiled]

    def _label(self, kind: str, topic: str, payload: bytes) -> None:
        if self.labels is not None:
            label = Label(kind, topic, sha256(payload), EXPECTED_REASON[kind])
            self.labels.write(label.to_json() + "\n")


def _break_checksums(payload: bytes) -> bytes:
    """Flip the checksum of every NMEA sentence (as faulty firmware does)."""
    lines = []
    for line in payload.split(b"\r\n"):
        if b"*" in line:
            body, checksum = line.rsplit(b"*", 1)
            wrong = (int(checksum[:2] or b"0", 16) ^ 0x5A) if checksum[:2].strip() else 0
            line = body + b"*" + f"{wrong:02X}".encode()
        lines.append(line)
    return b"\r\n".join(lines)
