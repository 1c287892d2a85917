"""Users, roles, sessions, wall tokens and the audit log.

Passwords are hashed with argon2id (memory-hard); session and wall tokens are
random 32-byte values of which only a SHA-256 is stored. Functions take the
connection first; the web layer (dashboard/auth.py) owns cookies and HTTP.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ROLES = ("wall", "dispatcher", "commander", "reviewer", "admin")
# What each role may do; a role's rights are listed whole, not inherited.
RIGHTS: dict[str, frozenset[str]] = {
    "wall": frozenset({"view_wall"}),
    "dispatcher": frozenset({"view_wall", "view_desk", "create_incident", "dispatch"}),
    "commander": frozenset(
        {
            "view_wall",
            "view_desk",
            "create_incident",
            "dispatch",
            "override",
            "close_incident",
            "view_quality",
            "view_replay",
        }
    ),
    "reviewer": frozenset({"view_wall", "view_replay"}),
    "admin": frozenset(
        {
            "view_wall",
            "view_desk",
            "view_quality",
            "view_replay",
            "manage_users",
            "manage_wall_tokens",
        }
    ),
}
_HASHER = PasswordHasher()  # argon2id, the library's current recommended parameters
_DUMMY_HASH = _HASHER.hash("not a password")


class AccessError(ValueError):
    """A refused request: bad input, unknown user, wrong password, no right."""


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    role: str

    def may(self, right: str) -> bool:
        return right in RIGHTS.get(self.role, frozenset())


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


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
    conn.execute(
        "INSERT INTO audit_log (actor, action, ok, ip, detail) VALUES (%s, %s, %s, %s, %s::jsonb)",
        (actor, action, ok, ip, json.dumps(detail or {}, default=str)),
    )


def add_user(conn: psycopg.Connection, name: str, role: str, password: str) -> int:
    """Create a user; the password must be at least 10 characters."""
    if role not in ROLES:
        raise AccessError(f"role must be one of {', '.join(ROLES)}")
    if not name or len(name) > 64 or not name.replace("_", "").replace(".", "").isalnum():
        raise AccessError("name: 1-64 letters, digits, '.' or '_'")
    if len(password) < 10:
        raise AccessError("password: at least 10 characters")
    row = conn.execute(
        "INSERT INTO users (name, role, password_hash) VALUES (%s, %s, %s) "
        "ON CONFLICT (name) DO NOTHING RETURNING id",
        (name, role, _HASHER.hash(password)),
    ).fetchone()
    if row is None:
        raise AccessError(f"user {name} exists")
    return int(row[0])


def login(
    conn: psycopg.Connection,
    name: str,
    password: str,
    now: datetime,
    lifetime: timedelta,
    ip: str | None = None,
) -> tuple[str, User] | None:
    """Check the password and open a session; returns (token, user), or None
    for a wrong name or password. Every attempt is audited (so the caller
    commits either way); a wrong name costs as much time as a wrong password."""
    row = conn.execute(
        "SELECT id, name, role, password_hash FROM users WHERE name = %s AND NOT disabled", (name,)
    ).fetchone()
    try:
        _HASHER.verify(row[3] if row else _DUMMY_HASH, password)
        if row is None:
            raise VerificationError("no such user")
    except (VerificationError, InvalidHashError):
        audit(conn, name or "?", "login", False, ip=ip)
        return None
    token = secrets.token_urlsafe(32)
    conn.execute(
        "INSERT INTO sessions (token_sha256, user_id, created_at, expires_at) "
        "VALUES (%s, %s, %s, %s)",
        (token_hash(token), row[0], now, now + lifetime),
    )
    audit(conn, name, "login", True, ip=ip)
    return token, User(int(row[0]), str(row[1]), str(row[2]))


def session_user(conn: psycopg.Connection, token: str | None, now: datetime) -> User | None:
    """The user of a live session token, or None (unknown, expired, revoked, disabled)."""
    if not token:
        return None
    row = conn.execute(
        "SELECT u.id, u.name, u.role FROM sessions s JOIN users u ON u.id = s.user_id "
        "WHERE s.token_sha256 = %s AND s.revoked_at IS NULL AND s.expires_at > %s "
        "AND NOT u.disabled",
        (token_hash(token), now),
    ).fetchone()
    return None if row is None else User(int(row[0]), str(row[1]), str(row[2]))


def logout(conn: psycopg.Connection, token: str, now: datetime) -> None:
    conn.execute(
        "UPDATE sessions SET revoked_at = %s WHERE token_sha256 = %s", (now, token_hash(token))
    )


def add_wall_token(conn: psycopg.Connection, label: str, created_by: str) -> str:
    """A new read-only wall token (shown once; only its hash is kept)."""
    token = secrets.token_urlsafe(24)
    conn.execute(
        "INSERT INTO wall_tokens (token_sha256, label, created_by) VALUES (%s, %s, %s)",
        (token_hash(token), label, created_by),
    )
    audit(conn, created_by, "add_wall_token", True, detail={"label": label})
    return token


def wall_token_valid(conn: psycopg.Connection, token: str | None) -> bool:
    if not token:
        return False
    row = conn.execute(
        "SELECT 1 FROM wall_tokens WHERE token_sha256 = %s AND revoked_at IS NULL",
        (token_hash(token),),
    ).fetchone()
    return row is not None


def set_password(conn: psycopg.Connection, name: str, role: str, password: str) -> None:
    """Create the user or give it a new password and role (used by the demo)."""
    conn.execute(
        "INSERT INTO users (name, role, password_hash) VALUES (%s, %s, %s) ON CONFLICT (name) "
        "DO UPDATE SET role = excluded.role, password_hash = excluded.password_hash",
        (name, role, _HASHER.hash(password)),
    )
