"""User and wall-token administration for the admin page, and the audit log
read back.

Every change is audited, allowed or refused (:func:`usecases.access.audited`), and
none may leave the station without an active admin. Functions take the
connection first and never commit; the caller commits after a refusal too,
so its audit row is kept.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

from geo.access import ROLES, AccessError, check_password, hash_password
from store import access as access_store
from usecases.access import add_user, audited

AUDIT_ROWS = 200


def user_list(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Every user by name: ``name``, ``role``, ``created_at``, ``active`` and
    ``last_login_at`` (the newest session's start; None if never signed in)."""
    return access_store.user_list(conn)


def create_user(
    conn: psycopg.Connection, actor: str, name: str, role: str, password: str, ip: str | None
) -> int:
    """:func:`usecases.access.add_user`, audited as ``actor``'s ``add_user``."""
    with audited(conn, actor, "add_user", ip=ip, detail={"name": name, "role": role}):
        return add_user(conn, name, role, password)


def _keep_an_admin(conn: psycopg.Connection, name: str) -> None:
    """Refuse a change that takes ``name``'s admin rights away if no other
    active admin would be left (the rows stay locked until commit)."""
    admins = access_store.lock_active_admins(conn)
    if admins == [name]:
        raise AccessError(f"{name} is the last active admin", "user")


def _changed(user_id: int | None, name: str) -> int:
    if user_id is None:
        raise AccessError(f"no user {name}", "user")
    return user_id


def set_role(
    conn: psycopg.Connection, actor: str, name: str, role: str, ip: str | None = None
) -> None:
    """Give ``name`` the role ``role``; takes effect on its next request."""
    with audited(conn, actor, "set_role", ip=ip, detail={"name": name, "role": role}):
        if role not in ROLES:
            raise AccessError(f"role must be one of {', '.join(ROLES)}", "role")
        if role != "admin":
            _keep_an_admin(conn, name)
        _changed(access_store.set_user_role(conn, name, role), name)


def set_disabled(
    conn: psycopg.Connection,
    actor: str,
    name: str,
    disabled: bool,
    now: datetime,
    ip: str | None = None,
) -> None:
    """Disable ``name`` (its sessions end at ``now``; it cannot sign in) or enable it again."""
    action = "disable_user" if disabled else "enable_user"
    with audited(conn, actor, action, ip=ip, detail={"name": name}) as detail:
        if disabled:
            _keep_an_admin(conn, name)
        user_id = _changed(access_store.set_user_disabled(conn, name, disabled), name)
        if disabled:
            detail["sessions_ended"] = _end_sessions(conn, user_id, now)


def reset_password(
    conn: psycopg.Connection,
    actor: str,
    name: str,
    password: str,
    now: datetime,
    ip: str | None = None,
) -> None:
    """Give ``name`` a new password (at least 12 characters); its sessions end at ``now``."""
    with audited(conn, actor, "reset_password", ip=ip, detail={"name": name}) as detail:
        if problem := check_password(password):
            raise AccessError(problem, "password")
        password_hash = hash_password(password)
        user_id = _changed(access_store.set_user_password_hash(conn, name, password_hash), name)
        detail["sessions_ended"] = _end_sessions(conn, user_id, now)


def _end_sessions(conn: psycopg.Connection, user_id: int, now: datetime) -> int:
    """Revoke the user's live sessions; returns how many."""
    return access_store.end_user_sessions(conn, user_id, now)


def wall_token_list(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Wall tokens, live ones first, newest first: ``id``, ``label``,
    ``created_by``, ``created_at``, ``last_used_at`` and ``revoked_at`` (None
    when live). The tokens themselves are not kept."""
    return access_store.wall_token_list(conn)


def revoke_wall_token(
    conn: psycopg.Connection, actor: str, token_id: int, now: datetime, ip: str | None = None
) -> str:
    """Revoke a wall token at ``now``; returns its label. A wall holding it
    is refused from its next request on."""
    with audited(conn, actor, "revoke_wall_token", ip=ip, detail={"token_id": token_id}) as detail:
        label = access_store.revoke_wall_token(conn, token_id, now)
        if label is None:
            raise AccessError(f"no live wall token {token_id}", "token")
        detail["label"] = label
        return label


def audit_rows(
    conn: psycopg.Connection,
    actor: str | None = None,
    action: str | None = None,
    limit: int = AUDIT_ROWS,
) -> list[dict[str, Any]]:
    """The newest ``limit`` audit rows, newest first, of one ``actor`` and/or
    one ``action`` when given (exact match; empty means any)."""
    return access_store.audit_rows(conn, actor or None, action or None, limit)
