"""Signing in and out, sessions, wall tokens and the audit log: the rules of
:mod:`geo.access` and :mod:`geo.throttle` over :mod:`store.access`.

Functions take the connection first and never commit: the caller does, also
after a refusal, so that the refusal's audit row is kept.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from geo.access import (
    MAX_LOGIN_NAME_CHARS,
    WALL_TOKEN_TOUCH_S,
    AccessError,
    User,
    hash_password,
    new_user_errors,
    token_hash,
    verify_password,
)
from store import access as access_store


def audit(
    conn: psycopg.Connection,
    actor: str,
    action: str,
    ok: bool,
    *,
    ip: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append to the audit log (every login and every action, allowed or refused)."""
    access_store.insert_audit(conn, actor, action, ok, ip, json.dumps(detail or {}, default=str))


@contextmanager
def audited(
    conn: psycopg.Connection,
    actor: str,
    action: str,
    *,
    ip: str | None = None,
    detail: dict[str, Any] | None = None,
) -> Iterator[dict[str, Any]]:
    """Audit the block: one row when it ends, ``ok`` unless it raised
    :class:`AccessError` (whose message goes in ``detail.refused``; the error
    is raised on). The block may add to the yielded ``detail``."""
    shown = dict(detail or {})
    try:
        yield shown
    except AccessError as exc:
        audit(conn, actor, action, False, ip=ip, detail={**shown, "refused": str(exc)})
        raise
    audit(conn, actor, action, True, ip=ip, detail=shown)


def add_user(conn: psycopg.Connection, name: str, role: str, password: str) -> int:
    """Create a user; raises :class:`AccessError` (with the field at fault)
    for a bad name, role or password (at least 12 characters) or a taken name."""
    for field, message in new_user_errors(name, role, password).items():
        raise AccessError(message, field)
    user_id = access_store.insert_user(conn, name, role, hash_password(password))
    if user_id is None:
        raise AccessError(f"user {name} exists", "name")
    return user_id


def set_password(conn: psycopg.Connection, name: str, role: str, password: str) -> None:
    """Create the user or give it a new password and role (used by the demo)."""
    access_store.upsert_user_password(conn, name, role, hash_password(password))


def masked_name(conn: psycopg.Connection, name: str) -> str:
    """``"?"`` + the first 12 hex digits of HMAC-SHA-256 of ``name`` under the
    database's own random key: the same for the same text in every process,
    useless for guessing what was typed without that key."""
    key = access_store.name_mask_key(conn)
    if key is None:
        raise RuntimeError("name_mask_key is empty: run `dispatchmap db upgrade`")
    return "?" + hmac.new(key, name.encode(), hashlib.sha256).hexdigest()[:12]


def login(
    conn: psycopg.Connection,
    name: str,
    password: str,
    now: datetime,
    lifetime: timedelta,
    ip: str | None = None,
) -> tuple[str, User] | None:
    """Check the password and open a session; returns (token, user), or None
    for a wrong name or password or a disabled user. Every attempt is audited
    (so the caller commits either way): a name no enabled user has under its
    masked form (:func:`masked_name`), never in clear, as it may be a
    password typed in the wrong field. A wrong name costs as much time as a
    wrong password. A name over ``MAX_LOGIN_NAME_CHARS`` is refused (audited)
    without a look-up or a hash."""
    if len(name) > MAX_LOGIN_NAME_CHARS:
        audit(conn, "?", "login", False, ip=ip, detail={"refused": "name too long"})
        return None
    row = access_store.login_user(conn, name)
    if not verify_password(row[3] if row else None, password) or row is None:
        audit(conn, login_actor(conn, name, row is not None), "login", False, ip=ip)
        return None
    token = secrets.token_urlsafe(32)
    access_store.insert_session(conn, token_hash(token), row[0], now, now + lifetime)
    audit(conn, name, "login", True, ip=ip)
    return token, User(row[0], row[1], row[2])


def login_actor(conn: psycopg.Connection, name: str, known: bool | None = None) -> str:
    """How the audit log names whoever typed ``name`` at sign-in: the name of
    an enabled user (``known``, looked up when None), otherwise its mask."""
    if known is None:
        known = access_store.login_user(conn, name) is not None
    return name if known else masked_name(conn, name)


def session_user(conn: psycopg.Connection, token: str | None, now: datetime) -> User | None:
    """The user of a live session token, or None (unknown, expired, revoked, disabled)."""
    if not token:
        return None
    row = access_store.session_user(conn, token_hash(token), now)
    return None if row is None else User(*row)


def logout(conn: psycopg.Connection, token: str, now: datetime) -> None:
    """End the session of ``token`` at ``now``."""
    access_store.end_session(conn, token_hash(token), now)


def add_wall_token(
    conn: psycopg.Connection, label: str, created_by: str, ip: str | None = None
) -> str:
    """A new read-only wall token (shown once; only its hash is kept). The
    label is 1-80 characters; a bad one raises :class:`AccessError` (audited)."""
    with audited(conn, created_by, "add_wall_token", ip=ip, detail={"label": label}) as detail:
        label = (label or "").strip()
        if not 1 <= len(label) <= 80:
            raise AccessError("label: 1-80 characters", "label")
        token = secrets.token_urlsafe(24)
        detail["token_id"] = access_store.insert_wall_token(
            conn, token_hash(token), label, created_by
        )
    return token


def wall_token_valid(
    conn: psycopg.Connection, token: str | None, now: datetime | None = None
) -> bool:
    """Whether ``token`` is a wall token not revoked; notes its use (at most
    once a minute), so the caller should commit."""
    if not token:
        return False
    when = now or datetime.now(UTC)
    return access_store.use_wall_token(conn, token_hash(token), when, WALL_TOKEN_TOUCH_S)
