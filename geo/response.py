"""The response clock: intervals per incident and the shift's figures.
Pure: rows from ``geo/sql/queries/response_clock.sql``, ``order_ack_times.sql``
and ``shift_orders.sql`` in."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

INTERVALS = {  # name -> (from, to) columns of the clock
    "queue_s": ("created_at", "first_dispatched_at"),
    "ack_s": ("first_dispatched_at", "first_acknowledged_at"),
    "turnout_s": ("first_dispatched_at", "first_enroute_at"),
    "travel_s": ("first_enroute_at", "first_onscene_at"),
    "response_s": ("created_at", "first_onscene_at"),
    "on_scene_s": ("first_onscene_at", "last_cleared_at"),
}
ACK_WITHIN_S = (30, 60, 120)
REACHED_WITHIN_S = (300, 600)
# The wall's targets: 签收 within 30 s, a P1/P2 incident reached within 5 min.
ACK_TARGET_S = 30.0
REACH_TARGET_S = 300.0


def _seconds(a: datetime | None, b: datetime | None) -> float | None:
    return None if a is None or b is None else (b - a).total_seconds()


def intervals(clock: Mapping[str, Any]) -> dict[str, float | None]:
    """Seconds between the incident's milestones; None where one is missing."""
    return {name: _seconds(clock[a], clock[b]) for name, (a, b) in INTERVALS.items()}


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100), linear between closest ranks; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100.0
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _share(values: Iterable[float | None], limit: float, total: int) -> float | None:
    return None if total == 0 else sum(v is not None and v <= limit for v in values) / total


def summary(
    clocks: Sequence[Mapping[str, Any]], ack_times_s: Sequence[float | None]
) -> dict[str, Any]:
    """The shift's figures. An order never acknowledged counts against every
    "within" share; a P1/P2 incident never reached counts against "reached"."""
    acked = [a for a in ack_times_s if a is not None]
    urgent = [intervals(c)["response_s"] for c in clocks if c["priority"] <= 2]
    out: dict[str, Any] = {
        "incidents": len(clocks),
        "orders": len(ack_times_s),
        "p1p2_incidents": len(urgent),
    }
    for s in ACK_WITHIN_S:
        out[f"ack_within_{s}s"] = _share(ack_times_s, s, len(ack_times_s))
    for s in REACHED_WITHIN_S:
        out[f"p1p2_reached_within_{s // 60}min"] = _share(urgent, s, len(urgent))
    reached = [r for r in urgent if r is not None]
    for q in (50, 90):
        out[f"ack_p{q}_s"] = percentile(acked, q)
        out[f"p1p2_response_p{q}_s"] = percentile(reached, q)
    return out


def csv_text(clocks: Sequence[Mapping[str, Any]]) -> str:
    """One CSV row per incident: its milestones (ISO 8601 UTC) and intervals (s)."""
    buffer = io.StringIO()
    milestones = [
        "created_at",
        "first_dispatched_at",
        "first_acknowledged_at",
        "first_enroute_at",
        "first_onscene_at",
        "last_cleared_at",
        "closed_at",
    ]
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["incident_id", "type", "priority", *milestones, *INTERVALS])
    for c in clocks:
        spans = intervals(c)
        writer.writerow(
            [
                c["incident_id"],
                c["type"],
                c["priority"],
                *[c[m].isoformat() if c[m] else "" for m in milestones],
                *["" if spans[n] is None else f"{spans[n]:.1f}" for n in INTERVALS],
            ]
        )
    return buffer.getvalue()


def shift_start(now: datetime, tz: ZoneInfo, starts: Sequence[time]) -> datetime:
    """When the shift running at ``now`` began, aware UTC: the latest of the
    daily local clock times ``starts`` (in the station's ``tz``) at or before
    ``now``. A start in an hour skipped by daylight saving falls an hour later,
    as ``zoneinfo`` resolves it. ``starts`` must not be empty."""
    if not starts:
        raise ValueError("a shift needs at least one start time")
    today = now.astimezone(tz).date()
    begun = [
        datetime.combine(day, start, tzinfo=tz).astimezone(UTC)
        for day in (today - timedelta(days=1), today)
        for start in starts
    ]
    return max(at for at in begun if at <= now)


def _decided(value: float | None, started_at: datetime, now: datetime, target_s: float) -> bool:
    """Whether a milestone counts yet: it happened, or its target has passed."""
    return value is not None or (now - started_at).total_seconds() > target_s


def shift_figures(
    clocks: Sequence[Mapping[str, Any]], orders: Sequence[Mapping[str, Any]], now: datetime
) -> dict[str, Any]:
    """The wall's response clock of the shift so far: orders acknowledged
    within ``ACK_TARGET_S`` and P1/P2 incidents reached within
    ``REACH_TARGET_S``, each as ``*_share`` (0..1, None when nothing counts
    yet), ``*_in_time`` and ``*_counted``. An order still inside its 30 s, or
    an incident inside its 5 min, is not counted yet; past it, a missing
    acknowledgement or arrival counts against the share (as in ``summary``)."""
    acks = [o["ack_s"] for o in orders if _decided(o["ack_s"], o["sent_at"], now, ACK_TARGET_S)]
    reached = []
    for c in clocks:
        response_s = intervals(c)["response_s"]
        if c["priority"] <= 2 and _decided(response_s, c["created_at"], now, REACH_TARGET_S):
            reached.append(response_s)
    out: dict[str, Any] = {}
    for name, values, target in (("ack", acks, ACK_TARGET_S), ("reached", reached, REACH_TARGET_S)):
        out[f"{name}_counted"] = len(values)
        out[f"{name}_in_time"] = sum(v is not None and v <= target for v in values)
        out[f"{name}_share"] = _share(values, target, len(values))
    return out
