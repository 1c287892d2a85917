"""Logins, roles and request checks for the Flask server under Dash.

Pages need a right (``PAGE_RIGHTS``); without a session the browser is sent
to ``/login``. The wall opens with a session, a wall token (``?token=``, kept
in a cookie), or with nothing under ``make demo``. A Dash callback request is
checked against the callback that will run (:mod:`dashboard.callback_requests`)
before it runs: it needs the right of that callback's page (``ID_PAGES``) and
of the input that fired it (``CALLBACK_RIGHTS``). Every state-changing
callback also calls :func:`require` itself. Cross-site requests are refused:
session cookies are SameSite=Strict and a POST whose Origin is another site
is rejected.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, NoReturn, cast
from urllib.parse import urlsplit

import flask
from psycopg_pool import ConnectionPool
from werkzeug.exceptions import BadRequest, Forbidden
from werkzeug.wrappers import Response

from dashboard import callback_requests as calls
from dashboard import signin
from geo.access import User, token_hash
from usecases import access

SESSION_COOKIE = "dm_session"
WALL_COOKIE = "dm_wall"
PAGE_RIGHTS = {
    "/desk": "view_desk",
    "/quality": "view_quality",
    "/replay": "view_replay",
    "/admin": "manage_users",
}
WALL = "/wall"
SHELL = "shell"  # the app shell (url -> page): its routing callback checks the page itself
# The page each Dash component belongs to, by id or by id prefix (a key ending
# in "-"; the longest match wins). A callback's page comes from all the ids it
# declares (shell ids aside): it needs that page's right, wall access for the
# wall. A callback placed on no page, or on two, is refused, and
# tests/unit/test_callback_rules.py fails for it.
ID_PAGES = {
    "url": SHELL,
    "page": SHELL,
    "tick": WALL,
    "wall-": WALL,
    "layer-": WALL,
    "units-": WALL,
    "desk-": "/desk",
    "new-": "/desk",
    "unit-": "/desk",
    "queue-row": "/desk",
    "queue-wait": "/desk",
    "dispatch-button": "/desk",
    "alarm-take": "/desk",
    "quality-": "/quality",
    "replay-": "/replay",
    "admin-": "/admin",
}
# Inputs that act, by component id (or pattern type): firing one needs this
# right on top of the page's. Checked before the callback runs, so a refusal
# is a plain 403.
CALLBACK_RIGHTS = {
    "new-create": "create_incident",
    "dispatch-button": "dispatch",
    "desk-override": "override",
    "desk-close": "close_incident",
    "alarm-take": "dispatch",
    "desk-status-set": "dispatch",
    "desk-edit-save": "create_incident",
    "admin-token-create": "manage_wall_tokens",
    "admin-token-revoke": "manage_wall_tokens",
}


def page_of_id(component_id: str) -> str | None:
    """The page of one component id (or pattern type) by ``ID_PAGES``, or None."""
    matches = [
        key
        for key in ID_PAGES
        if component_id == key or (key.endswith("-") and component_id.startswith(key))
    ]
    return ID_PAGES[max(matches, key=len)] if matches else None


def callback_page(spec: Mapping[str, Any]) -> str:
    """The page whose right a registered callback (a ``callback_map`` entry)
    needs: a ``PAGE_RIGHTS`` path, ``WALL``, or ``SHELL`` (none). Raises
    LookupError when its ids name no page, or more than one."""
    keys = {calls.id_key(i) for i in calls.declared_ids(spec)}
    pages = {key: page_of_id(key) for key in keys}
    if unplaced := sorted(k for k, page in pages.items() if page is None):
        raise LookupError(f"no page for {', '.join(unplaced)}")
    found = set(pages.values()) - {SHELL} or {SHELL}
    if len(found) > 1:
        raise LookupError(f"ids of several pages: {', '.join(sorted(keys))}")
    return str(found.pop())


_LOGIN_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>dispatchmap · sign in</title><link rel="stylesheet" href="/assets/login.css"></head>
<body class="login-page"><form class="login" method="post" action="/login">
<h1>dispatchmap</h1><p class="error">{error}</p>
<input type="hidden" name="next" value="{next}">
<label>Name <input name="name" autocomplete="username" maxlength="128" required autofocus>
</label>
<label>Password <input name="password" type="password" autocomplete="current-password" required>
</label><button type="submit">Sign in</button>{demo}</form></body></html>"""


def _now() -> datetime:
    return datetime.now(UTC)


def current_user(pool: ConnectionPool) -> User | None:
    """The signed-in user of this request (looked up once per request)."""
    if "dm_user" not in flask.g:
        with pool.connection() as conn:
            flask.g.dm_user = access.session_user(
                conn, flask.request.cookies.get(SESSION_COOKIE), _now()
            )
    return flask.g.dm_user


def require(pool: ConnectionPool, right: str, action: str) -> User:
    """The user if they have ``right``; otherwise audit the refusal and 403."""
    user = current_user(pool)
    if user is None or not user.may(right):
        refuse(pool, action, {"right": right}, f"{action}: needs the right {right!r}")
    return user


# On a refusal with nobody signed in (a session that ended, a wall token
# revoked), so the page can say so and go to the sign-in page instead of
# standing still, looking live, and asking again every second.
SIGNED_OUT_HEADER = "X-DM-Signed-Out"


def refuse(
    pool: ConnectionPool, action: str, detail: dict[str, Any], message: str, status: int = 403
) -> NoReturn:
    """Audit a refused request (as the signed-in user, or "anonymous") and
    answer it with ``status`` (403, or 400 for a malformed request)."""
    note_refusal(pool, action, detail)
    user = current_user(pool)
    if status == 400:
        raise BadRequest(message)
    if user is None and not wall_token_held(pool):
        flask.abort(Response(html.escape(message), 403, {SIGNED_OUT_HEADER: "1"}))
    raise Forbidden(message)


def note_refusal(pool: ConnectionPool, action: str, detail: dict[str, Any]) -> None:
    """Audit a refused action (as the signed-in user, or "anonymous") without
    failing the request: for refusals a callback answers with a message."""
    user = current_user(pool)
    with pool.connection() as conn:
        access.audit(
            conn,
            user.name if user else "anonymous",
            action,
            False,
            ip=flask.request.remote_addr,
            detail=detail,
        )


def session_key() -> str | None:
    """The SHA-256 of this request's session token (as ``sessions`` keys it), or None."""
    token = flask.request.cookies.get(SESSION_COOKIE)
    return token_hash(token) if token else None


# Where a sign-in may lead: the app's own pages, nothing else.
OWN_PAGES = frozenset({"/", WALL, *PAGE_RIGHTS})
DEFAULT_NEXT = "/desk"


def _safe_next(target: str | None) -> str:
    """The page to open after a sign-in: ``target`` when its path is one of
    ``OWN_PAGES`` (its query kept, its fragment dropped), else ``/desk``.

    A list of pages rather than a list of known tricks: browsers drop tabs
    and newlines inside URLs and read ``\\`` as ``/``, so ``/\\t/evil.example``
    or ``/\\evil`` lead off-site; none is an own page. Only printable ASCII
    without a backslash passes at all."""
    if not target or any(not 0x21 <= ord(c) < 0x7F or c == "\\" for c in target):
        return DEFAULT_NEXT
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or parts.path not in OWN_PAGES:
        return DEFAULT_NEXT
    return parts.path + (f"?{parts.query}" if parts.query else "")


def install(
    server: flask.Flask,
    pool: ConnectionPool,
    callbacks: Mapping[str, Any],
    *,
    demo: bool,
    session_hours: float,
    secure_cookies: bool,
    gate: signin.Gate,
    demo_login: str | None = None,
) -> None:
    """Add /login, /logout and the request checks to ``server``; ``gate``
    checks sign-ins (back-off, name length, concurrent password checks).
    ``callbacks`` is the Dash app's ``callback_map`` (read per request, so
    callbacks registered after this call are checked too)."""

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
        name, password = form.get("name", ""), form.get("password", "")
        outcome = gate.attempt(pool, name, password, flask.request.remote_addr)
        if outcome.token is None:
            response = login_page(outcome.error, outcome.status)
            if outcome.retry_after_s is not None:
                response.headers["Retry-After"] = str(outcome.retry_after_s)
            return response
        response = flask.redirect(_safe_next(form.get("next")), code=303)
        response.set_cookie(
            SESSION_COOKIE,
            outcome.token,
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
        if request.endpoint == "/_dash-update-component":  # the route of Dash's dispatch
            check_callback(pool, callbacks, demo)
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


def check_callback(pool: ConnectionPool, callbacks: Mapping[str, Any], demo: bool) -> None:
    """Refuse (audited) a Dash callback request unless it is exactly the call
    of a registered server callback, and the user has the rights of that
    callback's page and of the inputs that fired it."""
    body = _json_body()
    if (malformed := calls.shape_error(body)) is not None:
        refuse(pool, "dash_callback", {"refused": malformed}, malformed, 400)
    body = cast(dict[str, Any], body)
    try:
        spec = calls.resolve(body, callbacks)
        page = callback_page(spec)
    except (calls.CallMismatch, LookupError) as exc:
        detail = {"refused": str(exc), "output": body["output"][:300]}
        refuse(pool, "dash_callback", detail, f"callback refused: {exc}")
    fired = {CALLBACK_RIGHTS.get(calls.id_key(i)) for i in calls.fired_ids(body, spec)}
    for right in sorted(r for r in fired if r is not None):
        require(pool, right, right)
    if page == WALL and not wall_allowed(pool, demo):
        refuse(pool, "view_wall", {"right": "view_wall"}, "the wall needs a sign-in or a token")
    if page in PAGE_RIGHTS:
        require(pool, PAGE_RIGHTS[page], PAGE_RIGHTS[page])


def _json_body() -> Any:
    """The request's JSON, or None when it is none (not JSON, not UTF-8, or
    nested too deep for the parser: Python's json raises RecursionError)."""
    try:
        return flask.request.get_json(silent=True)
    except RecursionError:
        return None


def wall_token_held(pool: ConnectionPool) -> bool:
    """Whether this request carries a valid wall token cookie."""
    token = flask.request.cookies.get(WALL_COOKIE)
    if token is None:
        return False
    with pool.connection() as conn:
        return access.wall_token_valid(conn, token)


def wall_allowed(pool: ConnectionPool, demo: bool) -> bool:
    """Whether this request may see the wall: demo mode, a signed-in user with
    ``view_wall``, or a valid wall token cookie."""
    user = current_user(pool)
    if demo or (user is not None and user.may("view_wall")):
        return True
    return wall_token_held(pool)


def page_allowed(pool: ConnectionPool, path: str, demo: bool) -> bool:
    """Whether this request may receive the layout of ``path`` (the routing
    callback can be called directly, so the page check is repeated there)."""
    if path in PAGE_RIGHTS:
        user = current_user(pool)
        return user is not None and user.may(PAGE_RIGHTS[path])
    return wall_allowed(pool, demo)
