"""The desk's status by hand: between the page and
:func:`usecases.incidents.set_status_by_hand`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dash import Dash, Input, Output, State

from dashboard import auth, ids
from dashboard.deps import Deps
from dashboard.i18n import message, t
from geo.status import ManualStatusError
from usecases import incidents as inc


def register(app: Dash, deps: Deps) -> None:
    @app.callback(
        Output(ids.DESK_MESSAGE, "children", allow_duplicate=True),
        Output(ids.DESK_STATUS_VALUE_ERROR, "children"),
        Output(ids.DESK_STATUS_REASON_ERROR, "children"),
        Input(ids.DESK_STATUS_SET, "n_clicks"),
        State(ids.DESK_STATUS_UNIT, "value"),
        State(ids.DESK_STATUS_VALUE, "value"),
        State(ids.DESK_STATUS_REASON, "value"),
        prevent_initial_call=True,
    )
    def set_status(_n: int, unit_id: Any, choice: Any, reason: Any) -> tuple[str, str, str]:
        user = auth.require(deps.pool, "dispatch", "set_unit_status")
        return by_hand(deps, f"desk:{user.name}", unit_id, choice, reason)


def by_hand(deps: Deps, actor: str, unit_id: Any, choice: Any, reason: Any) -> tuple[str, str, str]:
    """(what the desk says, the status field's error, the reason's error)."""
    lang = deps.dash.language
    if not isinstance(unit_id, str) or not unit_id:
        return t("Choose an incident and a unit first.", lang), "", ""
    with deps.pool.connection() as conn:
        try:
            done = inc.set_status_by_hand(conn, unit_id, choice, reason, actor, datetime.now(UTC))
        except ManualStatusError as exc:
            marked = {exc.field: message(exc.message, lang)}
            said = t("Not set: see the marked field.", lang)
            return said, marked.get("status", ""), marked.get("reason", "")
        except LookupError:
            return t("Not sent: no unit {unit}.", lang, unit=unit_id[:40]), "", ""
    if not done.ok:
        return t("Not set: {reason}.", lang, reason=message(str(done.reason), lang)), "", ""
    status = t(done.status.replace("_", " "), lang)
    return t("Status of {unit}: {status}.", lang, unit=unit_id, status=status), "", ""
