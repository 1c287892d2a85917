"""Alarms: timers on orders and incidents, units outside their beat, and
terminals' emergency buttons.

``evaluate`` compares the alarms the thresholds call for now with the open
ones, raises the new and clears the gone, each with an event. Emergency
alarms are raised and cleared by the terminal's own button, not by timers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import psycopg

from store import alarms as alarm_store
from store.incidents import insert_event

EMERGENCY = "emergency"
OUTSIDE_BEAT = "outside_beat"
# Raised and cleared by the camera health check (feeds/camera_health.py).
CAMERA_DARK = "camera_dark"


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Seconds: order sent -> acknowledged, sent -> en route, incident created ->
    on scene (P1/P2 and P3/P4), on scene -> feedback, created -> first dispatch,
    how long an available unit may stay outside its home beat, and how long
    a unit may stay busy (meal included) before a welfare check is due (0:
    never alarm, for both)."""

    ack_s: float = 30.0
    enroute_s: float = 120.0
    onscene_p12_s: float = 300.0
    onscene_p34_s: float = 600.0
    feedback_s: float = 1800.0
    queue_p12_s: float = 60.0
    queue_p34_s: float = 300.0
    outside_beat_s: float = 300.0
    welfare_busy_s: float = 2700.0


def _key(row: dict[str, Any]) -> tuple[Any, ...]:
    return row["kind"], row["incident_id"], row["unit_id"], row["order_id"]


def raise_alarm(
    conn: psycopg.Connection,
    kind: str,
    severity: int,
    at: datetime,
    detail: str,
    *,
    incident_id: int | None = None,
    unit_id: str | None = None,
    order_id: str | None = None,
) -> bool:
    """Open an alarm (once: an identical open one is left as it is)."""
    alarm = {
        "kind": kind,
        "severity": severity,
        "incident_id": incident_id,
        "unit_id": unit_id,
        "order_id": order_id,
        "raised_at": at,
        "detail": detail,
    }
    raised = alarm_store.raise_alarm(conn, alarm)
    if raised:
        insert_event(
            conn,
            at=at,
            kind="alarm_raised",
            actor="system",
            incident_id=incident_id,
            unit_id=unit_id,
            order_id=order_id,
            data={"alarm": kind, "severity": severity, "detail": detail},
        )
    return raised


def clear_alarm(conn: psycopg.Connection, alarm: dict[str, Any], at: datetime, actor: str) -> None:
    """Clear an open alarm (a row of ``open_alarms``), with its event; nothing
    when it was cleared already."""
    if alarm_store.clear_alarm(conn, alarm["id"], at):
        insert_event(
            conn,
            at=at,
            kind="alarm_cleared",
            actor=actor,
            incident_id=alarm["incident_id"],
            unit_id=alarm["unit_id"],
            order_id=alarm["order_id"],
            data={"alarm": alarm["kind"]},
        )


def alarms_due(conn: psycopg.Connection, now: datetime, limits: Thresholds) -> list[dict[str, Any]]:
    """Every timer alarm that should be open at ``now``, emergencies aside."""
    params = {"now": now, **asdict(limits)}
    due = alarm_store.alarms_due(conn, params)
    if limits.outside_beat_s > 0:
        due += alarm_store.outside_beat_due(conn, params)
    return due


def evaluate(conn: psycopg.Connection, now: datetime, limits: Thresholds) -> tuple[int, int]:
    """Raise the timer alarms due at ``now`` and clear those no longer due;
    returns (raised, cleared)."""
    due = alarms_due(conn, now, limits)
    due_keys = {_key(r) for r in due}
    current = [
        a for a in alarm_store.open_alarms(conn) if a["kind"] not in (EMERGENCY, CAMERA_DARK)
    ]
    current_keys = {_key(a) for a in current}
    raised = sum(
        raise_alarm(
            conn,
            r["kind"],
            r["severity"],
            now,
            r["detail"],
            incident_id=r["incident_id"],
            unit_id=r["unit_id"],
            order_id=r["order_id"],
        )
        for r in due
        if _key(r) not in current_keys
    )
    gone = [a for a in current if _key(a) not in due_keys]
    for alarm in gone:
        clear_alarm(conn, alarm, now, "system")
    return raised, len(gone)


def emergency(
    conn: psycopg.Connection, unit_id: str | None, device_id: str, pressed: bool, at: datetime
) -> None:
    """A terminal's emergency button: raise the highest alarm at once, or clear it."""
    if pressed:
        raise_alarm(conn, EMERGENCY, 1, at, f"emergency button on {device_id}", unit_id=unit_id)
        return
    for alarm in alarm_store.open_alarms(conn):
        if alarm["kind"] == EMERGENCY and alarm["unit_id"] == unit_id:
            clear_alarm(conn, alarm, at, f"device:{device_id}")


def take_alarm(conn: psycopg.Connection, alarm_id: int, actor: str, at: datetime) -> bool:
    """``actor`` takes open alarm ``alarm_id`` at ``at`` (an ``alarm_taken``
    event says who and when); False when it is cleared, taken already or
    unknown (also for an id out of bigint range)."""
    if not 0 < alarm_id < 2**63:
        return False
    alarm = alarm_store.take_alarm(conn, alarm_id, actor, at)
    if alarm is not None:
        insert_event(
            conn,
            at=at,
            kind="alarm_taken",
            actor=actor,
            incident_id=alarm["incident_id"],
            unit_id=alarm["unit_id"],
            order_id=alarm["order_id"],
            data={"alarm": alarm["kind"], "severity": alarm["severity"], "alarm_id": alarm["id"]},
        )
    return alarm is not None
