"""What the desk's lists and buttons do, between the page and the use-cases:
the queue and unit list (drawn again only when their rows change), a new
incident from the form, closing the selected one."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from dash import no_update

from dashboard import checks, views
from dashboard.callbacks import desk_incident, live
from dashboard.deps import Deps
from dashboard.i18n import message, t
from dashboard.layout import desk as layout
from geo import queries
from geo.access import User
from geo.intake import IntakeError, parse_changes
from store import incidents as incident_store
from store import orders as order_store
from usecases import incidents as inc

STATUSES = frozenset(layout.UNIT_STATUSES)
FIELD_LABEL = {
    "type": "Type",
    "priority": "Priority",
    "lat": "Latitude",
    "lon": "Longitude",
    "notes": "Notes",
}


def lists(deps: Deps, filters: tuple[Any, Any, Any], version: Any, keys: tuple[Any, Any]) -> tuple:
    """The queue (table, key, waiting times, map layer), the units' map
    update and the unit list (table, key). ``filters`` is the unit list's
    (search, kind, status); ``keys`` what the browser shows (list, queue)."""
    search, kind, status = filters
    search = checks.text(search, "unit search")
    kind = None if kind is None else checks.one_of(kind, "unit kind", layout.UNIT_KINDS)
    status = None if status is None else checks.one_of(status, "unit status", STATUSES)
    list_key, queue_key = (None if k is None else checks.text(k, "drawn key", 40) for k in keys)
    now, lang = datetime.now(UTC), deps.dash.language
    with deps.read() as conn:
        open_rows = incident_store.open_incidents(conn, now)
        delta = live.units_update(conn, deps, version, now)
        units = queries.unit_positions(conn, now)
        statuses = order_store.unit_statuses(conn)
    units = [{**u, **statuses.get(u["id"], {})} for u in units]
    rows = views.unit_rows(units, deps.presence.stale_s, deps.presence.offline_s, deps.tz)
    queue = views.queue_rows(open_rows)
    shown = views.filter_units(rows, search, kind, status)
    return (
        *drawn_once(
            [{**r, "waiting": ""} for r in queue],
            queue_key,
            lambda: layout.queue_table(queue, lang),
        ),
        {str(r["id"]): r["waiting"] for r in queue},
        views.incidents_geojson(open_rows),
        delta,
        *drawn_once(shown, list_key, lambda: layout.unit_table(shown, lang)),
    )


def drawn_once(rows: list[dict[str, Any]], drawn: str | None, draw: Any) -> tuple[Any, Any]:
    """(``draw()``, key of ``rows``), or nothing when the browser already shows
    these rows: redrawing a table every tick replaced its buttons under the
    pointer, and a click between press and release was lost."""
    key = hashlib.sha1(repr(rows).encode(), usedforsecurity=False).hexdigest()
    if key == drawn:
        return no_update, no_update
    return draw(), key


def create(deps: Deps, user: User, form: dict[str, Any]) -> tuple:
    """(each field's error, the desk's message, the incident to select) for
    the new-incident form's values; a bad field is marked, nothing written."""
    lang = deps.dash.language
    now = datetime.now(UTC)
    with deps.pool.connection() as conn:
        try:
            incident_id = inc.intake(conn, form, f"desk:{user.name}", "desk", now)
        except IntakeError as exc:
            marked = [
                message(exc.message, lang) if f == exc.field else "" for f in layout.NEW_FIELDS
            ]
            return (*marked, t("Incident not created: see the marked field.", lang), no_update)
    blank = [""] * len(layout.NEW_FIELDS)
    return (*blank, t("Incident #{id} created.", lang, id=incident_id), incident_id)


def close(
    deps: Deps, user: User, incident_id: Any, closing: tuple[Any, Any]
) -> tuple[str, str, str]:
    """Close the selected incident with ``closing`` (disposition, result):
    (what the desk says, the disposition's error, the result's error)."""
    lang = deps.dash.language
    if incident_id is None:
        return t("Select an incident first.", lang), "", ""
    actor, now = f"desk:{user.name}", datetime.now(UTC)
    with deps.pool.connection() as conn:
        try:
            found = incident_store.incident(conn, desk_incident.incident_id_of(incident_id))
        except LookupError:
            found = None
        if found is None:
            return t("No incident #{id}.", lang, id=str(incident_id)[:20]), "", ""
        try:
            done = inc.close_with_disposition(conn, found["id"], actor, now, closing)
        except IntakeError as exc:
            marked = {exc.field: message(exc.message, lang)}
            refused = t("Not closed: see the marked field.", lang)
            return refused, marked.get("disposition", ""), marked.get("result", "")
    if done:
        return t("Incident #{id} closed.", lang, id=incident_id), "", ""
    return t("It was closed already.", lang), "", ""


def edit(deps: Deps, user: User, incident_id: Any, form: dict[str, Any]) -> str:
    """Change the selected incident by the form's non-blank fields; what the
    desk says."""
    lang = deps.dash.language
    if incident_id is None:
        return t("Select an incident first.", lang)
    with deps.pool.connection() as conn:
        types = {k: p for k, (p, _) in incident_store.incident_types(conn).items()}
        try:
            wanted = desk_incident.incident_id_of(incident_id)
            changes = parse_changes(form, types)
        except LookupError:
            return t("No incident #{id}.", lang, id=str(incident_id)[:20])
        except IntakeError as exc:
            field = t(FIELD_LABEL.get(exc.field, exc.field), lang)
            reason = message(exc.message, lang)
            return t("Not changed: {field} {reason}.", lang, field=field, reason=reason)
        actor, now = f"desk:{user.name}", datetime.now(UTC)
        diff = inc.update_incident(conn, wanted, changes, actor, "desk", now)
    if diff is None:
        return t("Not changed: incident #{id} is closed or unknown.", lang, id=wanted)
    if not diff:
        return t("Nothing to change.", lang)
    return t("Incident #{id} changed; the units on it are told.", lang, id=wanted)
