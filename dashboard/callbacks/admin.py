"""Admin page callbacks: ``page(deps)`` builds ``/admin``; ``register(app,
deps)`` attaches its actions. Each action checks the right on the server
(:func:`dashboard.auth.require`), calls one function of :mod:`usecases.admin`
(which audits it, allowed or refused) and returns a view; the tables are
read again whenever an action bumps the ``admin-changed`` store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import flask
from dash import ALL, Dash, Input, Output, State, ctx, html, no_update

from dashboard import auth, checks, ids
from dashboard.deps import Deps
from dashboard.layout import admin as layout
from geo.access import AccessError, new_user_errors
from usecases import access, admin

USERS = "manage_users"
TOKENS = "manage_wall_tokens"
# Typed fields are bounded here (400 beyond); within the bound, what is wrong
# with them is shown next to the field (geo.access checks names, roles, passwords).
PASSWORD_CHARS = checks.MAX_PASSWORD_TEXT_CHARS
USER_BUTTONS = (ids.ADMIN_SET_ROLE, ids.ADMIN_RESET, ids.ADMIN_DISABLE, ids.ADMIN_ENABLE)


def change_user(
    button: str, conn: Any, actor: str, fields: dict[str, Any], now: datetime, ip: str | None
) -> str:
    """Do what the change-a-user ``button`` asks for ``fields["user"]``; returns what was done."""
    name = fields["user"]
    if button == ids.ADMIN_SET_ROLE:
        admin.set_role(conn, actor, name, fields["role"] or "", ip)
        return f"{name} is now {fields['role']}"
    if button == ids.ADMIN_RESET:
        admin.reset_password(conn, actor, name, fields["password"] or "", now, ip)
        return f"{name} has a new password; its sessions ended"
    disable = button == ids.ADMIN_DISABLE
    admin.set_disabled(conn, actor, name, disable, now, ip)
    return f"{name} is disabled; its sessions ended" if disable else f"{name} is enabled"


def page(deps: Deps) -> html.Div:
    """The ``/admin`` page as of now."""
    user = auth.require(deps.pool, USERS, "view_admin")
    with deps.pool.connection() as conn:
        users, tokens = admin.user_list(conn), admin.wall_token_list(conn)
        audit = admin.audit_rows(conn)
        info = conn.info
        database = f"{info.user}@{info.host}:{info.port}/{info.dbname}"  # never the password
    settings = layout.running_settings(deps.dash, deps.presence, deps.dispatch, database)
    return layout.admin_page(
        user=user.name,
        role=user.role,
        users=users,
        tokens=tokens,
        audit=audit,
        settings=settings,
        tz=deps.tz,
    )


def _act(deps: Deps, right: str, run: Callable[..., Any]) -> Any:
    """``run(conn, actor, now, ip)`` as the signed-in user if they have
    ``right``; an :class:`AccessError` is returned, not raised, after the
    transaction holding its audit row commits."""
    user = auth.require(deps.pool, right, right)
    with deps.pool.connection() as conn:
        try:
            return run(conn, user.name, datetime.now(UTC), flask.request.remote_addr)
        except AccessError as exc:
            return exc


def _errors(form: str, problems: dict[str, str]) -> list[str]:
    """The message shown next to each of ``form``'s fields."""
    return [problems.get(f, "") for f in layout.FORM_FIELDS[form]]


def _problems(result: Any) -> dict[str, str]:
    if isinstance(result, AccessError):
        return {result.field or "": str(result)}
    return {}


def _bumped() -> str:
    """A new value for the ``admin-changed`` store: every action, allowed or
    refused, wrote an audit row, so the tables are read again."""
    return datetime.now(UTC).isoformat()


def register(app: Dash, deps: Deps) -> None:
    def errors(form: str) -> list[Output]:
        return [
            Output(layout.field_error_id(form, f), "children") for f in layout.FORM_FIELDS[form]
        ]

    changed = Output(ids.ADMIN_CHANGED, "data", allow_duplicate=True)

    @app.callback(
        *errors("new"),
        Output(ids.ADMIN_ADD_MESSAGE, "children"),
        Output(ids.ADMIN_NEW_NAME, "value"),
        Output(ids.ADMIN_NEW_PASSWORD, "value"),
        changed,
        Input(ids.ADMIN_ADD, "n_clicks"),
        State(ids.ADMIN_NEW_NAME, "value"),
        State(ids.ADMIN_NEW_ROLE, "value"),
        State(ids.ADMIN_NEW_PASSWORD, "value"),
        prevent_initial_call=True,
    )
    def add_user(_n: int | None, name: str | None, role: str | None, password: str | None) -> Any:
        name, role = checks.text(name, "name").strip(), checks.text(role, "role")
        password = checks.text(password, "password", PASSWORD_CHARS)
        result = _act(
            deps,
            USERS,
            lambda conn, actor, now, ip: admin.create_user(conn, actor, name, role, password, ip),
        )
        problems = {**new_user_errors(name, role, password), **_problems(result)}
        if problems:
            return *_errors("new", problems), "", no_update, no_update, _bumped()
        return *_errors("new", {}), f"{name} ({role}) added", "", "", _bumped()

    @app.callback(
        *errors("user"),
        Output(ids.ADMIN_USER_MESSAGE, "children"),
        Output(ids.ADMIN_PASSWORD, "value"),
        changed,
        *(Input(button, "n_clicks") for button in USER_BUTTONS),
        State(ids.ADMIN_USER, "value"),
        State(ids.ADMIN_ROLE, "value"),
        State(ids.ADMIN_PASSWORD, "value"),
        prevent_initial_call=True,
    )
    def change(_r: Any, _p: Any, _d: Any, _e: Any, user: Any, role: Any, password: Any) -> Any:
        user, role = checks.text(user, "user"), checks.text(role, "role")
        password = checks.text(password, "password", PASSWORD_CHARS)
        if not user:
            return *_errors("user", {"user": "choose a user"}), "", no_update, no_update
        fields, button = {"user": user, "role": role, "password": password}, str(ctx.triggered_id)
        result = _act(
            deps,
            USERS,
            lambda conn, actor, now, ip: change_user(button, conn, actor, fields, now, ip),
        )
        if isinstance(result, AccessError):
            return *_errors("user", _problems(result)), "", no_update, _bumped()
        return *_errors("user", {}), result, "", _bumped()

    @app.callback(
        *errors("token"),
        Output(ids.ADMIN_TOKEN_NEW, "children"),
        Output(ids.ADMIN_TOKEN_LABEL, "value"),
        changed,
        Input(ids.ADMIN_TOKEN_CREATE, "n_clicks"),
        State(ids.ADMIN_TOKEN_LABEL, "value"),
        prevent_initial_call=True,
    )
    def create_token(_n: int | None, label: str | None) -> Any:
        label = checks.text(label, "label").strip()
        result = _act(
            deps,
            TOKENS,
            lambda conn, actor, now, ip: access.add_wall_token(conn, label, actor, ip),
        )
        if isinstance(result, AccessError):
            return *_errors("token", _problems(result)), None, no_update, _bumped()
        url = f"{flask.request.host_url}wall?token={result}"
        return *_errors("token", {}), layout.new_token(label, url), "", _bumped()

    @app.callback(
        Output(ids.ADMIN_TOKEN_MESSAGE, "children"),
        changed,
        Input({"type": ids.ADMIN_TOKEN_REVOKE, "token": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def revoke_token(_clicks: list[int | None]) -> Any:
        if not ctx.triggered or not ctx.triggered[0]["value"]:
            return no_update, no_update  # the buttons were drawn, not clicked
        token_id = checks.integer(ctx.triggered_id["token"], "token", 1)
        result = _act(
            deps,
            TOKENS,
            lambda conn, actor, now, ip: admin.revoke_wall_token(conn, actor, token_id, now, ip),
        )
        if isinstance(result, AccessError):
            return str(result), _bumped()
        return f"wall token {result!r} revoked", _bumped()

    @app.callback(
        Output(ids.ADMIN_USERS, "children"),
        Output(ids.ADMIN_USER, "options"),
        Output(ids.ADMIN_TOKENS, "children"),
        Output(ids.ADMIN_AUDIT, "children"),
        Input(ids.ADMIN_CHANGED, "data"),
        Input(ids.ADMIN_AUDIT_ACTOR, "value"),
        Input(ids.ADMIN_AUDIT_ACTION, "value"),
        prevent_initial_call=True,
    )
    def refresh(_changed: str | None, actor: str | None, action: str | None) -> Any:
        auth.require(deps.pool, USERS, USERS)
        actor, action = checks.text(actor, "actor").strip(), checks.text(action, "action").strip()
        with deps.pool.connection() as conn:
            users, tokens = admin.user_list(conn), admin.wall_token_list(conn)
            audit = admin.audit_rows(conn, actor, action)
        return (
            layout.users_table(users, deps.tz),
            layout.user_options(users),
            layout.tokens_table(tokens, deps.tz),
            layout.audit_table(audit, deps.tz),
        )
