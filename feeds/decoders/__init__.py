"""Payload decoders, one module per terminal format.

A decoder is a pure function ``decode(device_id, payload) -> list[Decoded]`` that
never touches the network or the database. It raises :class:`DecodeError` with a
reason code when the payload cannot be read at all; values that decode but are
implausible (out of range, (0,0), future time) are left for the pipeline's
validation steps, which own those reason codes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# Reason codes a decoder may raise. The pipeline adds its own (see feeds.pipeline).
UNDECODABLE = "undecodable"
BAD_CHECKSUM = "bad_checksum"
NO_FIX = "no_fix"
UNSUPPORTED = "unsupported"


def anchor(received_at: datetime | None) -> datetime:
    """The moment that dates a payload without a full date (NMEA GGA, LIP short
    reports): ``received_at`` in UTC, or now. A naive time is a caller's bug."""
    if received_at is None:
        return datetime.now(UTC)
    if received_at.tzinfo is None:
        raise ValueError("received_at must be timezone-aware")
    return received_at.astimezone(UTC)


class DecodeError(ValueError):
    """A payload that cannot be turned into anything; ``reason`` is a stable code."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class PositionReport:
    """One position report.

    ``lat``/``lon`` are WGS84 degrees; ``fix_at`` is the time of the fix
    (timezone-aware UTC), not the time it was received, except when the
    report carries no time at all (a TETRA LIP short report): then ``fix_at``
    is when it was received and ``timed_by_receipt`` is True. A fix converted
    from GCJ-02 keeps the device's own values in ``raw_lat``/``raw_lon``
    (None otherwise). Optional values
    are ``None`` when the device did not say (never 0 as a stand-in).
    """

    device_id: str
    fix_at: datetime
    lat: float
    lon: float
    speed_kmh: float | None = None
    heading_deg: float | None = None
    acc_m: float | None = None
    alt_m: float | None = None
    sats: int | None = None
    seq: int | None = None
    timed_by_receipt: bool = False
    raw_lat: float | None = None
    raw_lon: float | None = None


@dataclass(frozen=True, slots=True)
class StatusReport:
    """A terminal's status message (emergency button, PTT, status key, battery)."""

    device_id: str
    reported_at: datetime
    emergency: bool | None = None
    ptt: bool | None = None
    talkgroup: str | None = None
    battery_pct: float | None = None
    state: str | None = None


@dataclass(frozen=True, slots=True)
class DeviceEvent:
    """Anything else a device says that is worth recording but is not a fix
    (OwnTracks ``lwt``, ``transition``, ``waypoint`` ...)."""

    device_id: str
    kind: str
    reported_at: datetime | None
    data: dict[str, Any] = field(default_factory=dict)


Decoded = PositionReport | StatusReport | DeviceEvent
