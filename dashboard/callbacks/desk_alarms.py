"""The desk's alarms: the list (drawn again only when it changes, so a Take
button is not replaced under the pointer), taking one, and the emergency
tone made in the browser until someone takes it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dash import ALL, ClientsideFunction, Dash, Input, Output, State, ctx, no_update

from dashboard import auth, checks, ids, views
from dashboard.callbacks.desk_actions import drawn_once
from dashboard.deps import Deps
from dashboard.i18n import t
from dashboard.layout import desk_alarms as layout
from geo import queries
from store import alarms as alarm_store
from usecases import alarms


def register(app: Dash, deps: Deps) -> None:
    @app.callback(
        Output(ids.DESK_ALARMS, "children"),
        Output(ids.DESK_ALARMS_KEY, "data"),
        Output(ids.DESK_TONE, "data"),
        Input(ids.DESK_TICK, "n_intervals"),
        State(ids.DESK_ALARMS_KEY, "data"),
    )
    def refresh(_n: int | None, drawn: Any) -> tuple[Any, Any, Any]:
        auth.require(deps.pool, "view_desk", "view_desk")
        return listed(deps, None if drawn is None else checks.text(drawn, "drawn key", 40))

    @app.callback(
        Output(ids.DESK_MESSAGE, "children", allow_duplicate=True),
        Input({"type": ids.ALARM_TAKE, "alarm": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def take(clicks: list[int | None]) -> Any:
        if not any(clicks) or not isinstance(ctx.triggered_id, dict):
            return no_update
        user = auth.require(deps.pool, "dispatch", "take_alarm")
        return taken(deps, f"desk:{user.name}", ctx.triggered_id.get("alarm"))

    app.clientside_callback(
        ClientsideFunction(namespace="desk", function_name="tone"),
        Output(ids.DESK_TONE_STATE, "children"),
        Input(ids.DESK_TONE, "data"),
        prevent_initial_call=True,
    )


def listed(deps: Deps, drawn: str | None) -> tuple[Any, Any, Any]:
    """(the list, its key, the tone's {"sound": an emergency nobody took})."""
    now, lang = datetime.now(UTC), deps.dash.language
    with deps.read() as conn:
        open_alarms = alarm_store.open_alarms(conn)
        units = queries.unit_positions(conn, now)
    presence = deps.presence
    rows = views.wall_alarms(open_alarms, units, now, presence.stale_s, presence.offline_s, lang)
    rows = [{**r, "fresh": False} for r in rows if r.get("id") is not None]
    sound = any(r["kind"] == alarms.EMERGENCY and not r["taken_by"] for r in rows)
    return (*drawn_once(rows, drawn, lambda: layout.alarm_list(rows, lang)), {"sound": sound})


def taken(deps: Deps, actor: str, alarm_id: Any) -> str:
    """Take the alarm the button names; what the desk says."""
    lang = deps.dash.language
    wanted = checks.integer(alarm_id, "alarm", 1)
    with deps.pool.connection() as conn:
        done = alarms.take_alarm(conn, wanted, actor, datetime.now(UTC))
    if done:
        return t("Alarm taken by {who}.", lang, who=actor)
    return t("That alarm was taken already or has ended.", lang)
