"""Ingest as an ordered list of small steps: route -> decode -> validate.

Every message comes out as exactly one :class:`Outcome`: accepted fixes and
other records, or one quarantine entry with a reason code. Nothing here does
I/O, so every step tests alone; the writer stores what comes out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from feeds.decoders import (
    UNDECODABLE,
    Decoded,
    DecodeError,
    DeviceEvent,
    Fix,
    StatusReport,
    lip,
    native,
    nmea,
    owntracks,
    status,
)
from feeds.topics import Topics

UNKNOWN_TOPIC = "unknown_topic"
OUT_OF_RANGE = "out_of_range"
ZERO_FIX = "zero_fix"
FUTURE_TIME = "future_time"
TOO_OLD = "too_old"

# (device_id, payload, received_at) -> decoded records. Formats without an
# absolute date in the payload (NMEA GGA, LIP short reports) date by received_at.
Decoder = Callable[[str, bytes, datetime], Sequence[Decoded]]


@dataclass(frozen=True, slots=True)
class Message:
    """One MQTT message as received; ``mid`` is the broker's packet id (0 for QoS 0)."""

    topic: str
    payload: bytes
    received_at: datetime
    mid: int = 0


@dataclass(frozen=True, slots=True)
class Rejection:
    reason: str
    detail: str = ""


@dataclass(slots=True)
class Outcome:
    """What one message became. ``rejection`` set means nothing else is stored."""

    message: Message
    format: str | None = None
    device_id: str | None = None
    fixes: list[Fix] = field(default_factory=list)
    statuses: list[StatusReport] = field(default_factory=list)
    events: list[DeviceEvent] = field(default_factory=list)
    rejection: Rejection | None = None


@dataclass(frozen=True, slots=True)
class Limits:
    """Validation thresholds, in seconds."""

    future_tolerance_s: float = 120.0
    max_age_s: float = 7 * 86400.0


def check_fix(fix: Fix, received_at: datetime, limits: Limits) -> Rejection | None:
    """The first validation step a fix fails, or None. Order matters: range
    before (0,0) before time, so each bad fix gets its most basic reason."""
    if not (-90.0 <= fix.lat <= 90.0 and -180.0 <= fix.lon <= 180.0):
        return Rejection(OUT_OF_RANGE, f"lat={fix.lat} lon={fix.lon}")
    if fix.lat == 0.0 and fix.lon == 0.0:
        return Rejection(ZERO_FIX)
    if fix.fix_at > received_at + timedelta(seconds=limits.future_tolerance_s):
        return Rejection(FUTURE_TIME, f"fix_at={fix.fix_at.isoformat()}")
    if fix.fix_at < received_at - timedelta(seconds=limits.max_age_s):
        return Rejection(TOO_OLD, f"fix_at={fix.fix_at.isoformat()}")
    return None


def _undated(decode: Callable[[str, bytes], Sequence[Decoded]]) -> Decoder:
    return lambda device_id, payload, received_at: decode(device_id, payload)


def default_decoders() -> dict[str, Decoder]:
    """Format name -> decoder. A format without a decoder is quarantined as
    ``undecodable`` with the detail "no decoder", never dropped."""
    return {
        "native": _undated(native.decode),
        "owntracks": _undated(owntracks.decode),
        "status": _undated(status.decode),
        "nmea": lambda d, p, at: nmea.decode(d, p, received_at=at),
        "lip": lambda d, p, at: lip.decode(d, p, received_at=at),
    }


class Pipeline:
    """Turns :class:`Message` into :class:`Outcome`; never raises on bad input."""

    def __init__(
        self, topics: Topics, limits: Limits, decoders: dict[str, Decoder] | None = None
    ) -> None:
        self.topics = topics
        self.limits = limits
        self.decoders = decoders if decoders is not None else default_decoders()

    def process(self, message: Message) -> Outcome:
        outcome = Outcome(message)
        route = self.topics.route(message.topic)
        if route is None:
            outcome.rejection = Rejection(UNKNOWN_TOPIC)
            return outcome
        outcome.format, outcome.device_id = route.format, route.device_id
        decoder = self.decoders.get(route.format)
        if decoder is None:
            outcome.rejection = Rejection(UNDECODABLE, f"no decoder for {route.format}")
            return outcome
        try:
            decoded = decoder(route.device_id, message.payload, message.received_at)
        except DecodeError as exc:
            outcome.rejection = Rejection(exc.reason, exc.detail)
            return outcome
        except Exception as exc:  # a decoder bug must not stop the ingest: keep the message
            outcome.rejection = Rejection(UNDECODABLE, f"decoder error: {exc!r}"[:500])
            return outcome
        return self._sort(outcome, decoded)

    def _sort(self, outcome: Outcome, decoded: Sequence[Decoded]) -> Outcome:
        for item in decoded:
            if isinstance(item, Fix):
                rejection = check_fix(item, outcome.message.received_at, self.limits)
                if rejection is not None:
                    # One bad fix spoils the message: it is kept whole in quarantine.
                    outcome.fixes, outcome.statuses, outcome.events = [], [], []
                    outcome.rejection = rejection
                    return outcome
                outcome.fixes.append(item)
            elif isinstance(item, StatusReport):
                outcome.statuses.append(item)
            else:
                outcome.events.append(item)
        if not (outcome.fixes or outcome.statuses or outcome.events):
            outcome.rejection = Rejection(UNDECODABLE, "decoded to nothing")
        return outcome
