"""Ingest as an ordered list of small steps: route -> decode -> validate.

Every message comes out as exactly one :class:`Outcome`: accepted fixes and
other records, or one quarantine entry with a reason code. Nothing here does
I/O, so every step tests alone; the writer stores what comes out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from feeds.decoders import (
    UNDECODABLE,
    Decoded,
    DecodeError,
    DeviceEvent,
    PositionReport,
    StatusReport,
    jt808,
    lip,
    native,
    nmea,
    owntracks,
    status,
)
from feeds.topics import Topics
from geo.earth import distance_m
from geo.gcj02 import gcj02_to_wgs84, out_of_china

UNKNOWN_TOPIC = "unknown_topic"
OUT_OF_RANGE = "out_of_range"
ZERO_FIX = "zero_fix"
FUTURE_TIME = "future_time"
TOO_OLD = "too_old"
POOR_ACCURACY = "poor_accuracy"
OUTSIDE_AREA = "outside_area"
GPS_JUMP = "gps_jump"
DUPLICATE = "duplicate"  # set by the writer: the database already holds this fix
# Set by the writer: the database holds a fix of this device at this time at
# another place (a device clock with whole seconds, two receivers on one id).
CONFLICTING_FIX = "conflicting_fix"
STORE_ERROR = "store_error"  # set by the ingest: the database refused this one message

# Highest believable speed by unit kind (km/h), for the GPS-jump step; a
# device not on the roster gets the "unknown" limit.
MAX_SPEED_KMH = {"car": 250.0, "motorbike": 250.0, "foot": 45.0, "unknown": 300.0}

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
    fixes: list[PositionReport] = field(default_factory=list)
    statuses: list[StatusReport] = field(default_factory=list)
    events: list[DeviceEvent] = field(default_factory=list)
    rejection: Rejection | None = None


@dataclass(frozen=True, slots=True)
class Limits:
    """Validation thresholds. ``area`` is (min_lon, min_lat, max_lon, max_lat)
    in WGS84 degrees, or None for anywhere; ``jump_min_m`` is the distance
    below which an implied speed is not judged (GPS noise between close fixes)."""

    future_tolerance_s: float = 120.0
    max_age_s: float = 7 * 86400.0
    max_acc_m: float = 500.0
    area: tuple[float, float, float, float] | None = None
    jump_min_m: float = 150.0
    max_speed_kmh: dict[str, float] = field(default_factory=lambda: dict(MAX_SPEED_KMH))


def check_fix(fix: PositionReport, received_at: datetime, limits: Limits) -> Rejection | None:
    """The first stateless validation step a fix fails, or None. Order matters:
    range before (0,0) before time, so each bad fix gets its most basic reason."""
    if not (-90.0 <= fix.lat <= 90.0 and -180.0 <= fix.lon <= 180.0):
        return Rejection(OUT_OF_RANGE, f"lat={fix.lat} lon={fix.lon}")
    if fix.lat == 0.0 and fix.lon == 0.0:
        return Rejection(ZERO_FIX)
    bad = _implausible_value(fix)
    if bad:
        return Rejection(OUT_OF_RANGE, bad)
    if fix.fix_at > received_at + timedelta(seconds=limits.future_tolerance_s):
        return Rejection(FUTURE_TIME, f"fix_at={fix.fix_at.isoformat()}")
    if fix.fix_at < received_at - timedelta(seconds=limits.max_age_s):
        return Rejection(TOO_OLD, f"fix_at={fix.fix_at.isoformat()}")
    if fix.acc_m is not None and fix.acc_m > limits.max_acc_m:
        return Rejection(POOR_ACCURACY, f"acc_m={fix.acc_m}")
    if limits.area is not None:
        min_lon, min_lat, max_lon, max_lat = limits.area
        if not (min_lon <= fix.lon <= max_lon and min_lat <= fix.lat <= max_lat):
            return Rejection(OUTSIDE_AREA, f"lat={fix.lat} lon={fix.lon}")
    return None


# Plausible bounds of the optional values; outside them a report is broken, and
# some (speed 1e300) would not even fit the database's columns.
VALUE_RANGES = {
    "speed_kmh": (0.0, 1000.0),
    "heading_deg": (0.0, 360.0),
    "acc_m": (0.0, 1e6),
    "alt_m": (-1000.0, 20000.0),
}


def _implausible_value(fix: PositionReport) -> str | None:
    for name, (low, high) in VALUE_RANGES.items():
        value = getattr(fix, name)
        if value is not None and not low <= value <= high:
            return f"{name}={value}"
    return None


@dataclass(frozen=True, slots=True)
class LastFix:
    fix_at: datetime
    lon: float
    lat: float


class JumpFilter:
    """The GPS-jump step: the speed implied between a device's last accepted
    fix and a new one must be believable for the unit's kind.

    A fix older than the last accepted one (a late arrival) is not judged:
    with only one neighbour known it could wrongly condemn either. State is
    per process; the ingest seeds it from ``device_latest`` for devices it has
    not seen, so a restarted or added worker judges from the stored track.

    A fix without a time of its own (``timed_by_receipt``: a LIP short report,
    dated when it was received) is neither judged nor an anchor: its implied
    speed is not known. Received live, such reports are seconds apart as sent;
    but a backlog the broker kept during an outage, drained by one worker or
    shared by several, delivers minutes of reports within a second, and judging
    them refused good fixes (``bench/ingest.py --workers 2``: 3 % of all).

    The anchor can itself be the bad fix (a device's first fix after a cold
    start, or the stored track of a device that was moved while off). Then
    every good fix after it is refused, and they agree with one another: after
    ``reanchor_after`` refused fixes in a row, each believable from the one
    before, the filter trusts them and re-anchors on the latest (that fix is
    accepted; the refused ones stay in quarantine with their reason).
    """

    def __init__(self, reanchor_after: int = 3) -> None:
        self.last: dict[str, LastFix] = {}
        self.reanchor_after = reanchor_after
        self._refused: dict[str, tuple[LastFix, int]] = {}

    def seed(self, device_id: str, last: LastFix) -> None:
        current = self.last.get(device_id)
        if current is None or last.fix_at > current.fix_at:
            self.last[device_id] = last

    def check(self, fix: PositionReport, max_kmh: float, min_m: float) -> Rejection | None:
        prev = self.last.get(fix.device_id)
        if prev is None or fix.fix_at <= prev.fix_at or fix.timed_by_receipt:
            return None
        jump = _jump(prev, fix, max_kmh, min_m)
        if jump is None:
            self._refused.pop(fix.device_id, None)
            return None
        if self._agrees_with_refused(fix, max_kmh, min_m):
            return None
        return Rejection(GPS_JUMP, jump)

    def _agrees_with_refused(self, fix: PositionReport, max_kmh: float, min_m: float) -> bool:
        """Count a refused fix into its device's run; True once the run is
        long enough to re-anchor on (the run then starts again)."""
        here = LastFix(fix.fix_at, fix.lon, fix.lat)
        refused = self._refused.get(fix.device_id)
        follows = (
            refused is not None
            and fix.fix_at > refused[0].fix_at
            and _jump(refused[0], fix, max_kmh, min_m) is None
        )
        run = refused[1] + 1 if follows and refused is not None else 1
        if run > self.reanchor_after:
            del self._refused[fix.device_id]
            return True
        self._refused[fix.device_id] = (here, run)
        return False

    def accept(self, fix: PositionReport) -> None:
        if not fix.timed_by_receipt:
            self.seed(fix.device_id, LastFix(fix.fix_at, fix.lon, fix.lat))


def _jump(prev: LastFix, fix: PositionReport, max_kmh: float, min_m: float) -> str | None:
    """Why ``fix`` cannot follow ``prev`` (distance, time, speed), or None."""
    moved_m = distance_m(prev.lon, prev.lat, fix.lon, fix.lat)
    dt_s = (fix.fix_at - prev.fix_at).total_seconds()
    speed_kmh = moved_m / dt_s * 3.6 if dt_s > 0 else math.inf
    if moved_m > min_m and speed_kmh > max_kmh:
        return f"{moved_m:.0f} m in {dt_s:.1f} s = {speed_kmh:.0f} km/h"
    return None


def from_gcj02(fix: PositionReport) -> PositionReport:
    """The fix in WGS84, its GCJ-02 values kept in ``raw_lat``/``raw_lon``;
    unchanged outside China, where GCJ-02 is WGS84."""
    if out_of_china(fix.lat, fix.lon):
        return fix
    lat, lon = gcj02_to_wgs84(fix.lat, fix.lon)
    return replace(fix, lat=lat, lon=lon, raw_lat=fix.lat, raw_lon=fix.lon)


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
        "jt808": _undated(jt808.decode),
    }


class Pipeline:
    """Turns :class:`Message` into :class:`Outcome`; never raises on bad input."""

    def __init__(
        self,
        topics: Topics,
        limits: Limits,
        decoders: dict[str, Decoder] | None = None,
        gcj02_formats: Collection[str] = (),
    ) -> None:
        """``gcj02_formats``: feeds (format names) whose every device gives GCJ-02."""
        self.gcj02_formats = frozenset(gcj02_formats)
        self.topics = topics
        self.limits = limits
        self.decoders = decoders if decoders is not None else default_decoders()
        self.jumps = JumpFilter()

    def _check(
        self, fix: PositionReport, received_at: datetime, kind: str | None
    ) -> Rejection | None:
        rejection = check_fix(fix, received_at, self.limits)
        if rejection is None:
            kind = kind or "unknown"
            max_kmh = self.limits.max_speed_kmh.get(kind, self.limits.max_speed_kmh["unknown"])
            rejection = self.jumps.check(fix, max_kmh, self.limits.jump_min_m)
        return rejection

    def process(
        self,
        message: Message,
        kinds: Mapping[str, str | None] | None = None,
        gcj02_devices: Collection[str] = (),
    ) -> Outcome:
        """One message through every step. ``kinds`` maps device id -> unit kind
        (car, motorbike, foot) for the GPS-jump limits; unknown devices get the
        loosest limit. Fixes of ``gcj02_devices`` (and of ``gcj02_formats``) are
        converted from GCJ-02 to WGS84 before they are checked."""
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
        if route.device_id in gcj02_devices or route.format in self.gcj02_formats:
            decoded = [from_gcj02(d) if isinstance(d, PositionReport) else d for d in decoded]
        return self._sort(outcome, decoded, (kinds or {}).get(route.device_id))

    def _sort(self, outcome: Outcome, decoded: Sequence[Decoded], kind: str | None) -> Outcome:
        for item in decoded:
            if isinstance(item, PositionReport):
                rejection = self._check(item, outcome.message.received_at, kind)
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
        for fix in outcome.fixes:
            self.jumps.accept(fix)
        return outcome
