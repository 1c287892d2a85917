"""User and wall-token administration for the admin page, and the audit log
read back.

Every change is audited, allowed or refused (:func:`geo.access.audited`), and
none may leave the station without an active admin. Functions take the
connection first and never commit; the caller commits after a refusal too,
so its audit row is kept.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from geo.access import (
    ROLES,
    AccessError,
    add_user,
    audited,
    check_password,
    hash_password,
)
from geo.queries import sql

AUDIT_ROWS = 200


def _rows(conn: psycopg.Connection, name: str, params: Any = None) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(sql(name), params).fetchall()


def user_list(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Every user by name: ``name``, ``role``, ``created_at``, ``active`` and
    ``last_login_at`` (the newest session's start; None if never signed in)."""
    return _rows(conn, "user_list")


def create_user(
    conn: psycopg.Connection, actor: str, name: str, role: str, password: str, ip: str | None
) -> int:
    """:func:`geo.access.add_user`, audited as ``actor``'s ``add_user``."""
    with audited(conn, actor, "add_user", ip=ip, detail={"name": name, "role": role}):
        return add_user(conn, name, role, password)


def _keep_an_admin(conn: psycopg.Connection, name: str) -> None:
    """Refuse a change that takes ``name``'s admin rights away if no other
    active admin would be left (the rows stay locked until commit)."""
    admins = [row[0] for row in conn.execute(sql("lock_active_admins"))]
    if admins == [name]:
        raise AccessError(f"{name} is the last active admin", "user")


def _changed(row: tuple[Any, ...] | None, name: str) -> int:
    if row is None:
        raise AccessError(f"no user {name}", "user")
    return int(row[0])


def set_role(
    conn: psycopg.Connection, actor: str, name: str, role: str, ip: str | None = None
) -> None:
    """Give ``name`` the role ``role``; takes effect on its next request."""
    with audited(conn, actor, "set_role", ip=ip, detail={"name": name, "role": role}):
        if role not in ROLES:
            raise AccessError(f"role must be one of {', '.join(ROLES)}", "role")
        if role != "admin":
            _keep_an_admin(conn, name)
        _changed(conn.execute(sql("set_user_role"), {"role": role, "name": name}).fetchone(), name)


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
        params = {"disabled": disabled, "name": name}
        user_id = _changed(conn.execute(sql("set_user_disabled"), params).fetchone(), name)
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
        params = {"hash": hash_password(password), "name": name}
        user_id = _changed(conn.execute(sql("set_user_password_hash"), params).fetchone(), name)
        detail["sessions_ended"] = _end_sessions(conn, user_id, now)


def _end_sessions(conn: psycopg.Connection, user_id: int, now: datetime) -> int:
    """Revoke the user's live sessions; returns how many."""
    return conn.execute(sql("end_user_sessions"), {"user_id": user_id, "now": now}).rowcount


def wall_token_list(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Wall tokens, live ones first, newest first: ``id``, ``label``,
    ``created_by``, ``created_at``, ``last_used_at`` and ``revoked_at`` (None
    when live). The tokens themselves are not kept."""
    return _rows(conn, "wall_token_list")


def revoke_wall_token(
    conn: psycopg.Connection, actor: str, token_id: int, now: datetime, ip: str | None = None
) -> str:
    """Revoke a wall token at ``now``; returns its label. A wall holding it
    is refused from its next request on."""
    with audited(conn, actor, "revoke_wall_token", ip=ip, detail={"token_id": token_id}) as detail:
        row = conn.execute(sql("revoke_wall_token"), {"id": token_id, "now": now}).fetchone()
        if row is None:
            raise AccessError(f"no live wall token {token_id}", "token")
        detail["label"] = row[0]
        return str(row[0])


def audit_rows(
    conn: psycopg.Connection,
    actor: str | None = None,
    action: str | None = None,
    limit: int = AUDIT_ROWS,
) -> list[dict[str, Any]]:
    """The newest ``limit`` audit rows, newest first, of one ``actor`` and/or
    one ``action`` when given (exact match; empty means any)."""
    params = {"actor": actor or None, "action": action or None, "limit": limit}
    return _rows(conn, "audit_rows", params)
