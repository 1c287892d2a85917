"""Suggestion sets as the server showed them, and dispatch against them.

The browser is never the source of truth: when the desk (or the CLI) shows
suggestions for an incident, the set is stored (``shown_sets``) and the page
holds only its id. A dispatch names the set and the units; rank, ETA, road
distance and the ``suggestions_shown`` event all come from the stored copy.

A pick is an *override* (rank NULL, no ETA) when the unit is not in the set,
the set is stale (the incident's version moved on, or it is older than
``max_age_s``), the set was shown to another user or session, or the
dispatcher pressed the override button. An override needs the ``override``
right; without it the whole dispatch is refused (:class:`DispatchRefused`).
An incident cleared or closed takes no dispatch, whatever the rights.

Functions take the connection first and never commit; a refusal raises
before anything is written, so the caller's rollback loses nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import psycopg

from geo.dispatch import Reason, Suggestions
from store import incidents as incident_store
from store import shown_sets as shown_store
from store.values import jsonb_text
from usecases import incidents as inc

CLOSED_STATES = frozenset({"cleared", "closed"})
"""Incident states that take no new dispatch (and no unpublished order)."""


# Units left out for their status or kind are most of a large fleet and say
# nothing about this incident: a set keeps only the exclusions of units that
# could have gone (no fix, stale fix, unreachable).
UNSTORED_REASONS = frozenset({Reason.NOT_AVAILABLE, Reason.WRONG_KIND})


class Refusal(StrEnum):
    """Why a dispatch was refused as a whole."""

    NO_SET = "no_set"  # the set id is not on record (forged, or from another database)
    INCIDENT_CLOSED = "incident_closed"
    NEEDS_OVERRIDE = "needs_override"
    NO_UNIT = "no_unit"  # a unit id not on the roster


class Override(StrEnum):
    """Why a pick is an override rather than a suggestion taken."""

    CHOSEN = "chosen"  # the dispatcher's override button
    NOT_IN_SET = "not_in_set"
    INCIDENT_CHANGED = "incident_changed"
    TOO_OLD = "too_old"
    OTHER_VIEWER = "other_viewer"


class DispatchRefused(Exception):
    """Nothing was sent. ``reason`` is a :class:`Refusal`; ``detail`` is what
    an audit row should carry (set id, incident, units, overrides)."""

    def __init__(self, reason: Refusal, detail: dict[str, Any]) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = {"refused": str(reason), **detail}


@dataclass(frozen=True, slots=True)
class Viewer:
    """Whom a set is shown to: ``actor`` names them in the log; ``user_id``
    and ``session`` (SHA-256 of the session token) are None off the web."""

    actor: str
    user_id: int | None = None
    session: str | None = None


@dataclass(frozen=True, slots=True)
class ShownSet:
    """A stored set; ``ranked`` rows have :class:`geo.dispatch.Suggestion`'s
    fields (``eta_s`` s, ``road_distance_m`` m), best first."""

    id: int
    incident_id: int
    incident_version: int
    shown_to: str
    user_id: int | None
    session: str | None
    shown_at: datetime
    ranked: list[dict[str, Any]]
    excluded: list[dict[str, Any]]
    shortfall: str | None

    def shown_to_viewer(self, viewer: Viewer) -> bool:
        return (self.shown_to, self.user_id, self.session) == (
            viewer.actor,
            viewer.user_id,
            viewer.session,
        )

    def age_s(self, now: datetime) -> float:
        return (now - self.shown_at).total_seconds()


@dataclass(frozen=True, slots=True)
class Sent:
    """What a dispatch did: orders sent, units refused by their status (not
    available), and the override reason of each unit sent as an override."""

    incident_id: int
    orders: list[inc.Order]
    refused: list[inc.Applied]
    overrides: dict[str, Override]


def record_shown(
    conn: psycopg.Connection,
    incident: dict[str, Any],
    shown: Suggestions,
    viewer: Viewer,
    now: datetime,
    ranked: list[dict[str, Any]] | None = None,
) -> int:
    """Store the set shown to ``viewer`` for ``incident`` (a row of
    :func:`usecases.incidents.incident`, with its ``version``); returns its id.
    ``ranked`` is the list as drawn, when the screen adds to
    ``shown.ranked`` (the desk's coverage figures); it must hold the same
    units in the same order, each with ``unit_id``, ``eta_s`` and
    ``road_distance_m``."""
    params = {
        "incident_id": incident["id"],
        "incident_version": incident["version"],
        "shown_to": viewer.actor,
        "user_id": viewer.user_id,
        "session": viewer.session,
        "shown_at": now,
        "ranked": jsonb_text([asdict(s) for s in shown.ranked] if ranked is None else ranked),
        "excluded": jsonb_text(
            [
                {"unit_id": e.unit_id, "reason": str(e.reason)}
                for e in shown.excluded
                if e.reason not in UNSTORED_REASONS
            ]
        ),
        "shortfall": shown.shortfall,
    }
    return shown_store.insert_shown_set(conn, params)


def renew_shown(conn: psycopg.Connection, set_id: int, now: datetime) -> int | None:
    """A copy of set ``set_id`` shown at ``now`` (the same list is still on
    screen and would otherwise grow too old); its id, None if there is none."""
    return shown_store.renew_shown_set(conn, set_id, now)


def shown_set(conn: psycopg.Connection, set_id: int) -> ShownSet | None:
    """The stored set ``set_id``, or None (also for an id out of bigint range)."""
    if not 0 < set_id < 2**63:
        return None
    row = shown_store.shown_set(conn, set_id)
    return None if row is None else ShownSet(*row)


def usable(
    found: ShownSet | None, viewer: Viewer, version: int, now: datetime, max_age_s: float
) -> bool:
    """Whether ``found`` would be taken as is: shown to ``viewer``, for this
    incident ``version``, at most ``max_age_s`` seconds old."""
    return found is not None and _stale(found, viewer, version, now, max_age_s) is None


def _stale(
    found: ShownSet, viewer: Viewer, version: int, now: datetime, max_age_s: float
) -> Override | None:
    """Why no pick from ``found`` can carry its rank, or None when any can."""
    if not found.shown_to_viewer(viewer):
        return Override.OTHER_VIEWER
    if found.incident_version != version:
        return Override.INCIDENT_CHANGED
    if found.age_s(now) > max_age_s:
        return Override.TOO_OLD
    return None


def dispatch_shown(
    conn: psycopg.Connection,
    set_id: int,
    unit_ids: Sequence[str],
    viewer: Viewer,
    now: datetime,
    *,
    max_age_s: float,
    may_override: bool,
    override: bool = False,
) -> Sent:
    """Dispatch ``unit_ids`` to the incident of set ``set_id``, with the
    suggestions on record. Each unit in a usable set (:func:`usable`) goes with
    its rank and ETA; any other is an override (``override`` True: all are).
    Raises :class:`DispatchRefused` (nothing written) for an unknown set, a
    cleared or closed incident, an override without ``may_override``, or a
    unit not on the roster. Units not available are refused one by one and
    logged (``Sent.refused``) while the others go."""
    found = shown_set(conn, set_id)
    if found is None:
        raise DispatchRefused(Refusal.NO_SET, {"set_id": set_id, "units": list(unit_ids)})
    detail: dict[str, Any] = {"set_id": set_id, "incident_id": found.incident_id}
    incident = incident_store.lock_incident(conn, found.incident_id)
    assert incident is not None  # shown_sets.incident_id is a foreign key
    _, status, version = incident
    if status in CLOSED_STATES:
        raise DispatchRefused(Refusal.INCIDENT_CLOSED, {**detail, "status": status})
    overrides = _overrides(found, unit_ids, viewer, version, now, max_age_s, override)
    if overrides and not may_override:
        raise DispatchRefused(Refusal.NEEDS_OVERRIDE, {**detail, "overrides": overrides})
    try:
        with conn.transaction():  # a savepoint: an unknown unit undoes the writes below
            orders, refused = _send(conn, found, unit_ids, viewer, overrides, now)
    except LookupError as exc:
        raise DispatchRefused(Refusal.NO_UNIT, {**detail, "error": str(exc)}) from None
    return Sent(found.incident_id, orders, refused, overrides)


def _send(
    conn: psycopg.Connection,
    found: ShownSet,
    unit_ids: Sequence[str],
    viewer: Viewer,
    overrides: dict[str, Override],
    now: datetime,
) -> tuple[list[inc.Order], list[inc.Applied]]:
    """Log the set (when it was this viewer's screen, whatever its age) and
    send the units; LookupError for a unit not on the roster."""
    if found.shown_to_viewer(viewer):
        incident_store.insert_event(
            conn,
            at=now,
            kind="suggestions_shown",
            actor=viewer.actor,
            incident_id=found.incident_id,
            data=_shown_data(found),
        )
    picks = [_pick(found, u, overrides.get(u)) for u in unit_ids]
    return inc.dispatch_units(conn, found.incident_id, picks, viewer.actor, now)


def _overrides(
    found: ShownSet,
    unit_ids: Sequence[str],
    viewer: Viewer,
    version: int,
    now: datetime,
    max_age_s: float,
    chosen: bool,
) -> dict[str, Override]:
    """Unit id -> why it is an override, for the units that are."""
    whole = Override.CHOSEN if chosen else _stale(found, viewer, version, now, max_age_s)
    if whole is not None:
        return dict.fromkeys(unit_ids, whole)
    listed = {r["unit_id"] for r in found.ranked}
    return {u: Override.NOT_IN_SET for u in unit_ids if u not in listed}


def _pick(found: ShownSet, unit_id: str, why: Override | None) -> inc.Pick:
    if why is not None:
        return inc.Pick(unit_id, override=str(why), shown_set_id=found.id)
    rank, row = next((i, r) for i, r in enumerate(found.ranked, 1) if r["unit_id"] == unit_id)
    return inc.Pick(unit_id, row["eta_s"], row["road_distance_m"], rank, shown_set_id=found.id)


def _shown_data(found: ShownSet) -> dict[str, Any]:
    """The ``suggestions_shown`` event's data: the stored copy and where it came from."""
    return {
        "shown_set_id": found.id,
        "shown_at": found.shown_at.isoformat(),
        "ranked": found.ranked,
        "excluded": found.excluded,
        "shortfall": found.shortfall,
    }
