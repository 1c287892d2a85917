"""The desk's dispatch: one unit sent from the suggestion set the page
names, with the rank and ETA the server keeps for it (usecases.shown_sets); a
refusal is audited and said on the desk, never a server error."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dashboard import auth
from dashboard.deps import Deps
from dashboard.i18n import message, t
from geo import access
from usecases import shown_sets


def viewer_of(user: access.User) -> shown_sets.Viewer:
    """Whom this request's desk shows suggestions to: the user and the session."""
    return shown_sets.Viewer(f"desk:{user.name}", user.id, auth.session_key())


def send(deps: Deps, user: access.User, shown: Any, unit_id: Any, *, override: bool) -> str:
    """Dispatch one unit from the set the page names, with the suggestions
    the server keeps for it; a refusal is audited and said on the desk."""
    lang = deps.dash.language
    set_id = shown.get("set_id") if isinstance(shown, dict) else None
    if type(set_id) is not int or not isinstance(unit_id, str) or not unit_id:
        return t("Choose an incident and a unit first.", lang)
    try:
        with deps.pool.connection() as conn:
            sent = shown_sets.dispatch_shown(
                conn,
                set_id,
                [unit_id],
                viewer_of(user),
                datetime.now(UTC),
                max_age_s=deps.dispatch.shown_max_age_s,
                may_override=user.may("override"),
                override=override,
            )
    except shown_sets.DispatchRefused as exc:
        needs = exc.reason == shown_sets.Refusal.NEEDS_OVERRIDE
        auth.note_refusal(deps.pool, "override" if needs else "dispatch", exc.detail)
        return _refusal_text(exc, unit_id, lang)
    if sent.refused:
        return t("Not sent: {reason}.", lang, reason=message(str(sent.refused[0].reason), lang))
    if sent.overrides:
        return t(
            "Order {order} sent to {unit} as an override; waiting for 签收 (acknowledgement).",
            lang,
            order=sent.orders[0].id,
            unit=unit_id,
        )
    return t(
        "Order {order} sent to {unit}; waiting for 签收 (acknowledgement).",
        lang,
        order=sent.orders[0].id,
        unit=unit_id,
    )


def _refusal_text(exc: shown_sets.DispatchRefused, unit_id: str, lang: str) -> str:
    """What the desk says when a dispatch is refused as a whole."""
    refusal = shown_sets.Refusal
    if exc.reason == refusal.INCIDENT_CLOSED:
        status = t(str(exc.detail["status"]), lang)
        return t(
            "Not sent: incident #{id} is {status}.",
            lang,
            id=exc.detail["incident_id"],
            status=status,
        )
    if exc.reason == refusal.NEEDS_OVERRIDE:
        return t(
            "Not sent: {unit} is not among the current suggestions shown to you; "
            "sending it needs the override right.",
            lang,
            unit=unit_id,
        )
    if exc.reason == refusal.NO_UNIT:
        return t("Not sent: no unit {unit}.", lang, unit=unit_id)
    return t("Not sent: those suggestions are not on record; select the incident again.", lang)
