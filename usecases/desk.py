"""What the desk shows for an incident, stored as the set the dispatcher saw,
and a dispatch from it: one path for the desk and the CLI's ``suggest
--dispatch`` alike, so both log the same suggestions for the same incident.

The shown set holds the suggestions as drawn, with each unit's coverage
cost (:func:`geo.coverage.with_coverage`); a dispatch then takes rank and
ETA from that stored copy (:func:`usecases.shown_sets.dispatch_shown`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import psycopg

from geo.cameras import rank_for
from geo.coverage import Coverage, coverage, coverage_units, with_coverage
from geo.dispatch import Rules, Suggestions
from geo.routing import Router
from store import cameras as camera_store
from store import orders as order_store
from usecases import incidents as inc
from usecases import shown_sets

CAMERA_SEARCH_M = 400.0
CAMERAS_SHOWN = 6


@dataclass(frozen=True, slots=True)
class IncidentView:
    """The desk's incident panel as data. ``incident`` is a row of
    :func:`store.incidents.incident`; ``ranked`` the suggestion rows as
    drawn (:class:`geo.dispatch.Suggestion` fields plus ``coverage_pct`` and
    ``coverage_drop_pct``, whole %); ``excluded`` each left-out unit's
    ``unit_id``, ``reason`` and ``call_sign``; ``orders`` the incident's
    orders, oldest first; ``cameras`` the nearest that see it, best first."""

    incident: dict[str, Any]
    suggestions: Suggestions
    ranked: list[dict[str, Any]]
    excluded: list[dict[str, Any]]
    orders: list[dict[str, Any]]
    cameras: list[dict[str, Any]]


def current_coverage(
    conn: psycopg.Connection, router: Router, now: datetime, max_fix_age_s: float, target_s: float
) -> Coverage:
    """Road covered at ``now`` within ``target_s`` seconds by available
    driving units whose fix is at most ``max_fix_age_s`` seconds old."""
    unit_ids, lons, lats = coverage_units(order_store.unit_snapshots(conn), now, max_fix_age_s)
    return coverage(router, unit_ids, lons, lats, target_s)


def incident_view(
    conn: psycopg.Connection,
    router: Router,
    incident_id: int,
    rules: Rules,
    cover: Coverage,
    now: datetime,
) -> IncidentView:
    """What the desk shows for incident ``incident_id`` at ``now``. Raises
    LookupError for an incident id that does not exist."""
    row, shown = inc.suggestions_for(conn, router, incident_id, rules, now)
    call_signs = {u.id: u.call_sign for u in order_store.unit_snapshots(conn)}
    excluded = [
        {
            "unit_id": e.unit_id,
            "reason": str(e.reason),
            "call_sign": call_signs.get(e.unit_id, e.unit_id),
        }
        for e in shown.excluded
    ]
    near = camera_store.cameras_near(conn, row["lon"], row["lat"], CAMERA_SEARCH_M)
    return IncidentView(
        incident=row,
        suggestions=shown,
        ranked=with_coverage([asdict(s) for s in shown.ranked], cover),
        excluded=excluded,
        orders=order_store.incident_orders(conn, row["id"]),
        cameras=rank_for(near, row["lon"], row["lat"])[:CAMERAS_SHOWN],
    )


def record_view(
    conn: psycopg.Connection, view: IncidentView, viewer: shown_sets.Viewer, now: datetime
) -> int:
    """Store ``view``'s suggestions as the set shown to ``viewer`` at ``now``
    (the rows as drawn); returns the set's id for a dispatch to name."""
    return shown_sets.record_shown(conn, view.incident, view.suggestions, viewer, now, view.ranked)


def dispatch_first(
    conn: psycopg.Connection,
    view: IncidentView,
    count: int,
    viewer: shown_sets.Viewer,
    now: datetime,
    max_age_s: float,
) -> shown_sets.Sent:
    """Show ``view`` to ``viewer`` and send its first ``count`` suggestions
    from that set, as the desk sends a unit from the list it shows (no
    override). Raises :class:`usecases.shown_sets.DispatchRefused`."""
    set_id = record_view(conn, view, viewer, now)
    unit_ids = [r["unit_id"] for r in view.ranked[:count]]
    return shown_sets.dispatch_shown(
        conn, set_id, unit_ids, viewer, now, max_age_s=max_age_s, may_override=False
    )
