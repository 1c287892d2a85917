"""Logins, roles and request checks for the Flask server under Dash.

Pages need a right (``PAGE_RIGHTS``); without a session the browser is sent
to ``/login``. The wall opens with a session, a wall token (``?token=``, kept
in a cookie), or with nothing under ``make demo``. Every state-changing
callback calls :func:`require` itself, so the server refuses an action the
role does not have whatever the page shows. Cross-site requests are refused:
session cookies are SameSite=Strict and a POST whose Origin is another site
is rejected.
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import flask
from psycopg_pool import ConnectionPool
from werkzeug.exceptions import Forbidden
from werkzeug.wrappers import Response

from geo import access

SESSION_COOKIE = "dm_session"
WALL_COOKIE = "dm_wall"
PAGE_RIGHTS = {"/desk": "view_desk", "/quality": "view_quality", "/replay": "view_replay"}
# Dash callbacks that act or read desk data, by the input that fires them:
# checked before the callback runs, so a refusal is a plain 403.
CALLBACK_RIGHTS = {
    "new-create": "create_incident",
    "dispatch-button": "dispatch",
    "desk-override": "override",
    "desk-close": "close_incident",
    "desk-tick": "view_desk",
    "replay-incident": "view_replay",
    "replay-load": "view_replay",
    "replay-window": "view_replay",
    "replay-slider": "view_replay",
    "replay-trail": "view_replay",
    "replay-player": "view_replay",
    "replay-play": "view_replay",
    "replay-back": "view_replay",
    "replay-forward": "view_replay",
    "replay-event": "view_replay",
}


# The wall's own live updates: open to whoever may see the wall.
WALL_CALLBACKS = {"tick"}


def _fired_by(prop_id: str) -> str:
    """The component id (or pattern type) of a Dash ``changedPropIds`` entry."""
    component = prop_id.rsplit(".", 1)[0]
    if component.startswith("{"):
        try:
            return str(json.loads(component).get("type", ""))
        except ValueError:
            return ""
    return component


_LOGIN_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>dispatchmap · sign in</title><link rel="stylesheet" href="/assets/login.css"></head>
<body class="login-page"><form class="login" method="post" action="/login">
<h1>dispatchmap</h1><p class="error">{error}</p>
<input type="hidden" name="next" value="{next}">
<label>Name <input name="name" autocomplete="username" required autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required>
</label><button type="submit">Sign in</button>{demo}</form></body></html>"""


def _now() -> datetime:
    return datetime.now(UTC)


def current_user(pool: ConnectionPool) -> access.User | None:
    """The signed-in user of this request (looked up once per request)."""
    if "dm_user" not in flask.g:
        with pool.connection() as conn:
            flask.g.dm_user = access.session_user(
                conn, flask.request.cookies.get(SESSION_COOKIE), _now()
            )
    return flask.g.dm_user


def require(pool: ConnectionPool, right: str, action: str) -> access.User:
    """The user if they have ``right``; otherwise audit the refusal and 403."""
    user = current_user(pool)
    if user is None or not user.may(right):
        with pool.connection() as conn:
            access.audit(
                conn,
                user.name if user else "anonymous",
                action,
                False,
                ip=flask.request.remote_addr,
                detail={"right": right},
            )
        raise Forbidden(f"{action}: needs the right {right!r}")
    return user


def _safe_next(target: str | None) -> str:
    """Only a local path may follow a login (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/desk"
    return target


def install(
    server: flask.Flask,
    pool: ConnectionPool,
    *,
    demo: bool,
    session_hours: float,
    secure_cookies: bool,
    demo_login: str | None = None,
) -> None:
    """Add /login, /logout and the request checks to ``server``."""

    def login_page(error: str = "", status: int = 200) -> Response:
        hint = f'<p class="hint">Demo login: {html.escape(demo_login)}</p>' if demo_login else ""
        body = _LOGIN_PAGE.format(
            error=html.escape(error),
            demo=hint,
            next=html.escape(_safe_next(flask.request.values.get("next"))),
        )
        return flask.Response(body, status=status, mimetype="text/html")

    @server.get("/login")
    def login_form() -> Response:
        return login_page()

    @server.post("/login")
    def login_submit() -> Response:
        form = flask.request.form
        with pool.connection() as conn:
            found = access.login(
                conn,
                form.get("name", ""),
                form.get("password", ""),
                _now(),
                timedelta(hours=session_hours),
                flask.request.remote_addr,
            )
        if found is None:
            return login_page("Wrong name or password.", 401)
        token, _ = found
        response = flask.redirect(_safe_next(form.get("next")), code=303)
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=int(session_hours * 3600),
            httponly=True,
            samesite="Strict",
            secure=secure_cookies,
        )
        return response

    @server.post("/logout")
    def logout() -> Response:
        token = flask.request.cookies.get(SESSION_COOKIE)
        if token:
            with pool.connection() as conn:
                access.logout(conn, token, _now())
        response = flask.redirect("/login", code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    @server.before_request
    def check() -> Response | None:
        request = flask.request
        if request.method == "POST" and not _same_origin(request):
            raise Forbidden("cross-site request refused")
        if request.path == "/_dash-update-component":
            body = request.get_json(silent=True) or {}
            for prop in body.get("changedPropIds") or []:
                fired = _fired_by(str(prop))
                right = CALLBACK_RIGHTS.get(fired)
                if right is not None:
                    require(pool, right, right)
                elif fired in WALL_CALLBACKS and not wall_allowed(pool, demo):
                    raise Forbidden("the wall needs a sign-in or a wall token")
        if request.path in PAGE_RIGHTS:
            user = current_user(pool)
            if user is None:
                return flask.redirect(f"/login?next={request.path}", code=303)
            if not user.may(PAGE_RIGHTS[request.path]):
                raise Forbidden(f"{user.role} may not open {request.path}")
        if request.path in ("/", "/wall"):
            return _wall_access(pool, demo, secure_cookies)
        return None


def _same_origin(request: flask.Request) -> bool:
    origin = request.headers.get("Origin")
    if origin is None:  # not sent by a browser across sites; SameSite covers cookies
        return True
    return urlsplit(origin).netloc == request.host


def _wall_access(pool: ConnectionPool, demo: bool, secure_cookies: bool) -> Response | None:
    token = flask.request.args.get("token")
    if token is not None:
        with pool.connection() as conn:
            valid = access.wall_token_valid(conn, token)
        if not valid:
            raise Forbidden("unknown or revoked wall token")
        response = flask.redirect(flask.request.path, code=303)
        response.set_cookie(
            WALL_COOKIE,
            token,
            max_age=365 * 86400,
            httponly=True,
            samesite="Strict",
            secure=secure_cookies,
        )
        return response
    if wall_allowed(pool, demo):
        return None
    return flask.redirect("/login?next=/wall", code=303)


def wall_allowed(pool: ConnectionPool, demo: bool) -> bool:
    """Whether this request may see the wall: demo mode, any signed-in user, or
    a valid wall token cookie."""
    if demo or current_user(pool) is not None:
        return True
    with pool.connection() as conn:
        return access.wall_token_valid(conn, flask.request.cookies.get(WALL_COOKIE))


def page_allowed(pool: ConnectionPool, path: str, demo: bool) -> bool:
    """Whether this request may receive the layout of ``path`` (the routing
    callback can be called directly, so the page check is repeated there)."""
    if path in PAGE_RIGHTS:
        user = current_user(pool)
        return user is not None and user.may(PAGE_RIGHTS[path])
    return wall_allowed(pool, demo)
