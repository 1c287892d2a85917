"""Replay: where every unit was, and in which status, at any moment of the past.

Pure functions over hand-held data, movingpandas vocabulary: a :class:`Track` is
one unit's fixes in time order; :func:`position_at` says where the unit was
shown at a moment, :func:`segment_between` gives the trail between two moments,
:func:`snapshot_at` does the whole station at once. Nothing here touches the
database (``geo.retention`` reads the fixes).

Conventions: times are timezone-aware datetimes (UTC); positions are WGS84
degrees (``lon``, ``lat``); a unit moves between two fixes along the great
circle, at a pace proportional to real time (halfway in time is halfway along).

Staleness follows the live desk (``PresenceSettings.stale_s``): a unit is
stale at ``t`` when its newest fix at or before ``t`` is more than ``stale_s``
older than ``t``. Two fixes further apart than ``stale_s`` are never joined by
interpolation: during such a gap the unit stays at its last fix (fresh for the
first ``stale_s`` seconds, as the live map showed it, then stale).

Trails thinned for drawing are in :mod:`geo.trails`. Incidents have a status
history too (:func:`incident_status_events`) and exist only from creation to
closing (:func:`incidents_at`).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, NamedTuple


class Fix(NamedTuple):
    """One stored report: ``fix_at`` (UTC), WGS84 degrees, km/h, degrees from north."""

    fix_at: datetime
    lon: float
    lat: float
    speed_kmh: float | None = None
    heading_deg: float | None = None


class TrackPoint(NamedTuple):
    """Where a unit is shown at ``at``: on a fix, or interpolated between two.

    ``fix_at`` is the newest real fix at or before ``at``; ``interpolated`` is
    True when the position lies strictly between two fixes; ``stale`` as in the
    module docstring. (Named tuples, not dataclasses: a seek makes one per unit,
    and a frozen dataclass is several times slower to build.)
    """

    at: datetime
    lon: float
    lat: float
    speed_kmh: float | None
    heading_deg: float | None
    fix_at: datetime
    interpolated: bool
    stale: bool

    @property
    def age_s(self) -> float:
        """Seconds from the newest real fix to ``at`` (0 on a fix)."""
        return (self.at - self.fix_at).total_seconds()


class Track:
    """One unit's fixes in time order. Two fixes at the same instant (two
    devices of one unit) keep the first given; the order given does not matter."""

    __slots__ = ("_times", "fixes", "unit_id")

    def __init__(self, unit_id: str, fixes: Iterable[Fix]) -> None:
        kept: dict[datetime, Fix] = {}
        for fix in fixes:
            kept.setdefault(fix.fix_at, fix)
        self.unit_id = unit_id
        self.fixes: tuple[Fix, ...] = tuple(sorted(kept.values(), key=lambda f: f.fix_at))
        self._times = [f.fix_at for f in self.fixes]

    def __len__(self) -> int:
        return len(self.fixes)

    def __repr__(self) -> str:
        return f"Track({self.unit_id!r}, {len(self.fixes)} fixes)"

    def index_at(self, at: datetime) -> int:
        """Index of the newest fix at or before ``at``; -1 before the first fix."""
        return bisect_right(self._times, at) - 1


def great_circle_point(
    lon1: float, lat1: float, lon2: float, lat2: float, fraction: float
) -> tuple[float, float]:
    """(lon, lat) at ``fraction`` (0..1) of the way from point 1 to point 2 along
    the great circle, degrees in and out; point 1 itself when both coincide."""
    if fraction == 0.0 or (lon1 == lon2 and lat1 == lat2):
        return lon1, lat1
    if fraction == 1.0:
        return lon2, lat2
    ax, ay, az = _unit_vector(lon1, lat1)
    bx, by, bz = _unit_vector(lon2, lat2)
    # atan2 of |a x b| and a . b keeps the angle exact for points metres apart.
    cross = math.hypot(ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx)
    omega = math.atan2(cross, ax * bx + ay * by + az * bz)
    wa = math.sin((1.0 - fraction) * omega) / math.sin(omega)
    wb = math.sin(fraction * omega) / math.sin(omega)
    x, y, z = wa * ax + wb * bx, wa * ay + wb * by, wa * az + wb * bz
    return math.degrees(math.atan2(y, x)), math.degrees(math.atan2(z, math.hypot(x, y)))


def _unit_vector(lon: float, lat: float) -> tuple[float, float, float]:
    lam, phi = math.radians(lon), math.radians(lat)
    return math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi)


def _on_fix(fix: Fix, at: datetime, stale_s: float) -> TrackPoint:
    stale = (at - fix.fix_at).total_seconds() > stale_s
    return TrackPoint(
        at, fix.lon, fix.lat, fix.speed_kmh, fix.heading_deg, fix.fix_at, False, stale
    )


def _blend(v1: float | None, v2: float | None, fraction: float) -> float | None:
    return None if v1 is None or v2 is None else v1 + (v2 - v1) * fraction


def _blend_heading(h1: float | None, h2: float | None, fraction: float) -> float | None:
    if h1 is None or h2 is None:
        return h1
    turn = (h2 - h1 + 180.0) % 360.0 - 180.0  # the short way round
    return (h1 + turn * fraction) % 360.0


def position_between(prev: Fix, nxt: Fix | None, at: datetime, stale_s: float) -> TrackPoint:
    """Where a unit is shown at ``at`` given its newest fix at or before ``at``
    (``prev``) and its first fix after ``at`` (``nxt``, None if unknown).

    Interpolates (great circle, in proportion to real time; speed linearly,
    heading the short way round) when the two fixes are at most ``stale_s``
    seconds apart; otherwise stays at ``prev``, stale once ``at`` is more than
    ``stale_s`` seconds after it.
    """
    if prev.fix_at == at or nxt is None:
        return _on_fix(prev, at, stale_s)
    gap = nxt.fix_at - prev.fix_at
    if gap.total_seconds() > stale_s:
        return _on_fix(prev, at, stale_s)
    fraction = (at - prev.fix_at) / gap
    lon, lat = great_circle_point(prev.lon, prev.lat, nxt.lon, nxt.lat, fraction)
    return TrackPoint(
        at,
        lon,
        lat,
        _blend(prev.speed_kmh, nxt.speed_kmh, fraction),
        _blend_heading(prev.heading_deg, nxt.heading_deg, fraction),
        prev.fix_at,
        True,
        False,
    )


def position_at(track: Track, at: datetime, stale_s: float) -> TrackPoint | None:
    """Where the unit of ``track`` is shown at ``at``; None before its first fix.

    After its last fix the unit stays there (stale once more than ``stale_s``
    seconds have passed); see :func:`position_between` for the rest.
    """
    i = track.index_at(at)
    if i < 0:
        return None
    nxt = track.fixes[i + 1] if i + 1 < len(track.fixes) else None
    return position_between(track.fixes[i], nxt, at, stale_s)


def _as_fix(point: TrackPoint) -> Fix:
    return Fix(point.at, point.lon, point.lat, point.speed_kmh, point.heading_deg)


def segment_between(track: Track, t1: datetime, t2: datetime, stale_s: float = math.inf) -> Track:
    """The trail from ``t1`` to ``t2`` (``t1 <= t2``): the fixes strictly
    between, plus the positions shown at ``t1`` and ``t2`` (interpolated, or the
    last fix, as :func:`position_at` with ``stale_s``; the default joins any
    gap). Starts at the first fix when ``t1`` precedes it; empty when the unit
    has no fix up to ``t2``. Use :func:`split_at_gaps` to draw it."""
    if t2 < t1:
        raise ValueError("segment_between needs t1 <= t2")
    start, end = position_at(track, t1, stale_s), position_at(track, t2, stale_s)
    first, last = track.index_at(t1) + 1, track.index_at(t2) + 1
    inner = [f for f in track.fixes[first:last] if f.fix_at != t2]
    points = ([_as_fix(start)] if start else []) + inner + ([_as_fix(end)] if end else [])
    return Track(track.unit_id, points)


def split_at_gaps(track: Track, gap_s: float) -> list[Track]:
    """``track`` cut wherever two consecutive fixes are more than ``gap_s``
    seconds apart (a trail must not draw a line across a gap); pieces of one
    fix are kept so a lone report still shows."""
    pieces: list[list[Fix]] = []
    for fix in track.fixes:
        if not pieces or (fix.fix_at - pieces[-1][-1].fix_at).total_seconds() > gap_s:
            pieces.append([])
        pieces[-1].append(fix)
    return [Track(track.unit_id, piece) for piece in pieces]


def snapshot_at(
    tracks: Iterable[Track] | Mapping[str, Track], at: datetime, stale_s: float
) -> dict[str, TrackPoint]:
    """Unit id -> position shown at ``at`` for every track with a fix up to ``at``."""
    found: dict[str, TrackPoint] = {}
    for track in tracks.values() if isinstance(tracks, Mapping) else tracks:
        point = position_at(track, at, stale_s)
        if point is not None:
            found[track.unit_id] = point
    return found


class StatusEvent(NamedTuple):
    """A unit entered ``status`` at ``at`` (generic: any event log row will do)."""

    at: datetime
    unit_id: str
    status: str


class StatusTimeline:
    """Status events indexed per unit, for many questions about one log.

    An event takes effect at its own ``at`` (inclusive); events of one unit at
    the same instant are applied in the order given (the last one wins).
    """

    __slots__ = ("_events", "_times")

    def __init__(self, events: Iterable[StatusEvent]) -> None:
        per_unit: dict[str, list[StatusEvent]] = {}
        for event in sorted(events, key=lambda e: e.at):  # stable: ties keep input order
            per_unit.setdefault(event.unit_id, []).append(event)
        self._events = per_unit
        self._times = {u: [e.at for e in es] for u, es in per_unit.items()}

    def event_at(self, unit_id: str, at: datetime) -> StatusEvent | None:
        """The event in force for ``unit_id`` at ``at`` (its ``at`` is since when)."""
        times = self._times.get(unit_id)
        if not times:
            return None
        i = bisect_right(times, at) - 1
        return self._events[unit_id][i] if i >= 0 else None

    def statuses_at(self, at: datetime) -> dict[str, StatusEvent]:
        """Unit id -> event in force at ``at``, for units with an event up to ``at``."""
        found = {u: self.event_at(u, at) for u in self._events}
        return {u: e for u, e in found.items() if e is not None}


def status_at(events: Iterable[StatusEvent], unit_id: str, at: datetime) -> str | None:
    """``unit_id``'s status at ``at`` from an event log; None before its first event."""
    event = StatusTimeline(e for e in events if e.unit_id == unit_id).event_at(unit_id, at)
    return None if event is None else event.status


def statuses_at(events: Iterable[StatusEvent], at: datetime) -> dict[str, str]:
    """Unit id -> status at ``at`` for every unit with an event up to ``at``."""
    return {u: e.status for u, e in StatusTimeline(events).statuses_at(at).items()}


# The incident chain as usecases.incidents moves it, forward only, and the event
# kinds that move it; an order ending as cleared (not cancelled) may clear it.
INCIDENT_CHAIN = ("open", "dispatched", "onscene", "cleared", "closed")
_INCIDENT_STEP = {"created": "open", "dispatched": "dispatched", "onscene": "onscene",
                  "closed": "closed"}  # fmt: skip
_ORDER_ENDS = {"cleared": True, "busy": True, "cancelled": False}


def incident_status_events(events: Iterable[Mapping[str, Any]]) -> list[StatusEvent]:
    """Each incident's status changes from its event log (rows with ``at``,
    ``kind``, ``incident_id``, ``order_id``, oldest first), keyed by the
    incident id as text, as the dispatcher makes them: ``created`` opens it,
    the first ``dispatched`` and ``onscene`` move it on, the clearing (or
    ``busy``) of its last live order clears it, ``closed`` closes it. Never
    backwards; a cancelled order clears nothing."""
    reached: dict[str, int] = {}
    live: dict[str, set[str]] = {}
    changes = []
    for e in events:
        key, kind = str(e["incident_id"]), e["kind"]
        orders = live.setdefault(key, set())
        if kind == "dispatched":
            orders.add(e["order_id"])
        elif kind in _ORDER_ENDS:
            orders.discard(e["order_id"])
        new = "cleared" if _ORDER_ENDS.get(kind) and not orders else _INCIDENT_STEP.get(kind)
        if new is not None and INCIDENT_CHAIN.index(new) > reached.get(key, -1):
            reached[key] = INCIDENT_CHAIN.index(new)
            changes.append(StatusEvent(e["at"], key, new))
    return changes


def incidents_at(
    incidents: Iterable[Mapping[str, Any]], statuses: StatusTimeline, at: datetime
) -> list[dict[str, Any]]:
    """The incidents that exist at ``at``: ``created_at <= at < closed_at``
    (``closed_at`` None: still open), each with ``status`` as it was at
    ``at`` from ``statuses`` (built from :func:`incident_status_events`;
    ``open`` before its first logged change)."""
    found = []
    for row in incidents:
        if row["created_at"] <= at and (row["closed_at"] is None or at < row["closed_at"]):
            event = statuses.event_at(str(row["id"]), at)
            found.append({**row, "status": "open" if event is None else event.status})
    return found


# The status an event leaves its unit in: apply_action writes ``to``, a
# dispatch writes ``status``; other kinds (order_published, alarms) leave it.
_STATUS_KEYS = ("to", "status")


def event_status(kind: str, data: dict[str, Any] | None) -> str | None:
    """The unit status an event leaves behind, or None when it changes none
    (a refused transition changes nothing even though it names a status)."""
    if kind == "transition_refused" or not isinstance(data, dict):
        return None
    # Text only: a stored status that is not text (a hand-made row) changes nothing.
    return next((data[k] for k in _STATUS_KEYS if data.get(k) and isinstance(data[k], str)), None)
