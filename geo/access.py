"""Users, roles, sessions, wall tokens and the audit log.

Passwords are hashed with argon2id (memory-hard); session and wall tokens are
random 32-byte values of which only a SHA-256 is stored. Functions take the
connection first and never commit: the caller does, also after a refusal, so
that the refusal's audit row is kept. The web layer (dashboard/auth.py) owns
cookies and HTTP; user and token administration is in :mod:`geo.admin`.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from geo import throttle
from geo.queries import sql

ROLES = ("wall", "dispatcher", "commander", "reviewer", "admin")
# What each role may do; a role's rights are listed whole, not inherited.
RIGHTS: dict[str, frozenset[str]] = {
    "wall": frozenset({"view_wall"}),
    "dispatcher": frozenset(
        {"view_wall", "view_desk", "create_incident", "dispatch", "view_video"}
    ),
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
            "view_video",
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
# Letters (any script), digits, '.' and '_', starting with a letter or digit.
NAME_PATTERN = re.compile(r"[^\W_][\w.]{0,63}")
MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1024  # argon2 hashes any length; this bounds the work a request causes
# A name typed at sign-in longer than this is refused before any look-up.
MAX_LOGIN_NAME_CHARS = 128
# A wall asks on every refresh; its last use is written at most this often.
WALL_TOKEN_TOUCH_S = 60.0


class AccessError(ValueError):
    """A refused request: bad input, unknown user, wrong password, no right.
    ``field`` names the form field at fault, when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


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
    conn.execute(sql("audit"), (actor, action, ok, ip, json.dumps(detail or {}, default=str)))


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


def new_user_errors(name: str, role: str, password: str) -> dict[str, str]:
    """What is wrong with a new user's fields, by field (``name``, ``role``,
    ``password``); empty when all are fine."""
    errors = {}
    if not NAME_PATTERN.fullmatch(name or ""):
        errors["name"] = "name: 1-64 letters, digits, '.' or '_', starting with a letter or digit"
    if role not in ROLES:
        errors["role"] = f"role must be one of {', '.join(ROLES)}"
    if password_error := check_password(password):
        errors["password"] = password_error
    return errors


def check_password(password: str) -> str | None:
    """Why ``password`` is refused, or None when it is acceptable."""
    if len(password or "") < MIN_PASSWORD_CHARS:
        return f"password: at least {MIN_PASSWORD_CHARS} characters"
    if len(password) > MAX_PASSWORD_CHARS:
        return f"password: at most {MAX_PASSWORD_CHARS} characters"
    return None


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def add_user(conn: psycopg.Connection, name: str, role: str, password: str) -> int:
    """Create a user; raises :class:`AccessError` (with the field at fault)
    for a bad name, role or password (at least 12 characters) or a taken name."""
    for field, message in new_user_errors(name, role, password).items():
        raise AccessError(message, field)
    row = conn.execute(sql("insert_user"), (name, role, hash_password(password))).fetchone()
    if row is None:
        raise AccessError(f"user {name} exists", "name")
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
    for a wrong name or password or a disabled user. Every attempt is audited
    (so the caller commits either way): a name no enabled user has under its
    masked form (:func:`geo.throttle.masked_name`), never in clear, as it may
    be a password typed in the wrong field. A wrong name costs as much time as
    a wrong password. A name over ``MAX_LOGIN_NAME_CHARS`` is refused (audited)
    without a look-up or a hash."""
    if len(name) > MAX_LOGIN_NAME_CHARS:
        audit(conn, "?", "login", False, ip=ip, detail={"refused": "name too long"})
        return None
    row = conn.execute(sql("login_user"), (name,)).fetchone()
    try:
        _HASHER.verify(row[3] if row else _DUMMY_HASH, password)
        if row is None:
            raise VerificationError("no such user")
    except (VerificationError, InvalidHashError):
        audit(conn, login_actor(conn, name, row is not None), "login", False, ip=ip)
        return None
    token = secrets.token_urlsafe(32)
    conn.execute(sql("insert_session"), (token_hash(token), row[0], now, now + lifetime))
    audit(conn, name, "login", True, ip=ip)
    return token, User(int(row[0]), str(row[1]), str(row[2]))


def login_actor(conn: psycopg.Connection, name: str, known: bool | None = None) -> str:
    """How the audit log names whoever typed ``name`` at sign-in: the name of
    an enabled user (``known``, looked up when None), otherwise its mask."""
    if known is None:
        known = conn.execute(sql("login_user"), (name,)).fetchone() is not None
    return name if known else throttle.masked_name(conn, name)


def session_user(conn: psycopg.Connection, token: str | None, now: datetime) -> User | None:
    """The user of a live session token, or None (unknown, expired, revoked, disabled)."""
    if not token:
        return None
    row = conn.execute(sql("session_user"), (token_hash(token), now)).fetchone()
    return None if row is None else User(int(row[0]), str(row[1]), str(row[2]))


def logout(conn: psycopg.Connection, token: str, now: datetime) -> None:
    conn.execute(sql("logout"), (now, token_hash(token)))


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
        row = conn.execute(sql("insert_wall_token"), (token_hash(token), label, created_by))
        detail["token_id"] = (row.fetchone() or [None])[0]
    return token


def wall_token_valid(
    conn: psycopg.Connection, token: str | None, now: datetime | None = None
) -> bool:
    """Whether ``token`` is a wall token not revoked; notes its use (at most
    once a minute), so the caller should commit."""
    if not token:
        return False
    params = {
        "hash": token_hash(token),
        "now": now or datetime.now(UTC),
        "every_s": WALL_TOKEN_TOUCH_S,
    }
    row = conn.execute(sql("use_wall_token"), params).fetchone()
    return row is not None and row[0] > 0


def set_password(conn: psycopg.Connection, name: str, role: str, password: str) -> None:
    """Create the user or give it a new password and role (used by the demo)."""
    conn.execute(sql("upsert_user_password"), (name, role, hash_password(password)))
