"""Users, sessions, wall tokens, the sign-in throttle and the audit log.
Each function runs one statement of ``store/sql/access/``; the caller owns
the transaction. Tokens are stored as their SHA-256 (hex) only; passwords as
argon2id hashes made by :mod:`geo.access`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from geo.throttle import Policy
from store import statements

_sql = statements.loader("access")


def _rows(conn: psycopg.Connection, text: str, params: Any = None) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(text, params).fetchall()


def insert_audit(
    conn: psycopg.Connection, actor: str, action: str, ok: bool, ip: str | None, detail: str
) -> None:
    """Append one row to the audit log; ``detail`` is JSON text."""
    conn.execute(_sql("insert_audit"), (actor, action, ok, ip, detail))


def audit_rows(
    conn: psycopg.Connection, actor: str | None, action: str | None, limit: int
) -> list[dict[str, Any]]:
    """The newest ``limit`` audit rows, newest first, of one ``actor`` and/or
    one ``action`` (None: any)."""
    params = {"actor": actor, "action": action, "limit": limit}
    return _rows(conn, _sql("audit_rows"), params)


def insert_user(conn: psycopg.Connection, name: str, role: str, password_hash: str) -> int | None:
    """A new user's id; None when the name is taken."""
    row = conn.execute(_sql("insert_user"), (name, role, password_hash)).fetchone()
    return None if row is None else int(row[0])


def upsert_user_password(
    conn: psycopg.Connection, name: str, role: str, password_hash: str
) -> None:
    """Create the user, or give it this password hash and role."""
    conn.execute(_sql("upsert_user_password"), (name, role, password_hash))


def login_user(conn: psycopg.Connection, name: str) -> tuple[int, str, str, str] | None:
    """(id, name, role, password hash) of the enabled user ``name``; None if none."""
    row = conn.execute(_sql("login_user"), (name,)).fetchone()
    return None if row is None else (int(row[0]), str(row[1]), str(row[2]), str(row[3]))


def insert_session(
    conn: psycopg.Connection, token_sha256: str, user_id: int, at: datetime, expires_at: datetime
) -> None:
    """Open a session from ``at`` until ``expires_at``."""
    conn.execute(_sql("insert_session"), (token_sha256, user_id, at, expires_at))


def session_user(
    conn: psycopg.Connection, token_sha256: str, now: datetime
) -> tuple[int, str, str] | None:
    """(id, name, role) of a live session's enabled user; None otherwise."""
    row = conn.execute(_sql("session_user"), (token_sha256, now)).fetchone()
    return None if row is None else (int(row[0]), str(row[1]), str(row[2]))


def end_session(conn: psycopg.Connection, token_sha256: str, now: datetime) -> None:
    """Revoke one session at ``now``."""
    conn.execute(_sql("end_session"), (now, token_sha256))


def end_user_sessions(conn: psycopg.Connection, user_id: int, now: datetime) -> int:
    """Revoke a user's live sessions at ``now``; how many."""
    return conn.execute(_sql("end_user_sessions"), {"user_id": user_id, "now": now}).rowcount


def user_list(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Every user by name: ``name``, ``role``, ``created_at``, ``active`` and
    ``last_login_at`` (the newest session's start; None if never signed in)."""
    return _rows(conn, _sql("user_list"))


def lock_active_admins(conn: psycopg.Connection) -> list[str]:
    """The names of the active admins, their rows locked until commit."""
    return [str(row[0]) for row in conn.execute(_sql("lock_active_admins"))]


def set_user_role(conn: psycopg.Connection, name: str, role: str) -> int | None:
    """Give ``name`` the role; its id, None when there is no such user."""
    row = conn.execute(_sql("set_user_role"), {"role": role, "name": name}).fetchone()
    return None if row is None else int(row[0])


def set_user_disabled(conn: psycopg.Connection, name: str, disabled: bool) -> int | None:
    """Disable or enable ``name``; its id, None when there is no such user."""
    params = {"disabled": disabled, "name": name}
    row = conn.execute(_sql("set_user_disabled"), params).fetchone()
    return None if row is None else int(row[0])


def set_user_password_hash(conn: psycopg.Connection, name: str, password_hash: str) -> int | None:
    """Give ``name`` a new password hash; its id, None when there is no such user."""
    params = {"hash": password_hash, "name": name}
    row = conn.execute(_sql("set_user_password_hash"), params).fetchone()
    return None if row is None else int(row[0])


def insert_wall_token(
    conn: psycopg.Connection, token_sha256: str, label: str, created_by: str
) -> int | None:
    """A new wall token's id."""
    row = conn.execute(_sql("insert_wall_token"), (token_sha256, label, created_by)).fetchone()
    return None if row is None else int(row[0])


def use_wall_token(
    conn: psycopg.Connection, token_sha256: str, now: datetime, every_s: float
) -> bool:
    """Whether the token is live; notes its use at most every ``every_s`` seconds."""
    params = {"hash": token_sha256, "now": now, "every_s": every_s}
    row = conn.execute(_sql("use_wall_token"), params).fetchone()
    return row is not None and row[0] > 0


def wall_token_list(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Wall tokens, live ones first, newest first: ``id``, ``label``,
    ``created_by``, ``created_at``, ``last_used_at`` and ``revoked_at`` (None
    when live). The tokens themselves are not kept."""
    return _rows(conn, _sql("wall_token_list"))


def revoke_wall_token(conn: psycopg.Connection, token_id: int, now: datetime) -> str | None:
    """Revoke a live wall token at ``now``; its label, None when no live token has that id."""
    row = conn.execute(_sql("revoke_wall_token"), {"id": token_id, "now": now}).fetchone()
    return None if row is None else str(row[0])


def name_mask_key(conn: psycopg.Connection) -> bytes | None:
    """The database's own random key for masking names typed at sign-in."""
    row = conn.execute(_sql("name_mask_key")).fetchone()
    return None if row is None else bytes(row[0])


def login_blocked_until(
    conn: psycopg.Connection, keys: list[str], now: datetime
) -> datetime | None:
    """When the longest back-off running for any of ``keys`` ends; None if none runs."""
    row = conn.execute(_sql("login_blocked_until"), {"keys": keys, "now": now}).fetchone()
    return None if row is None else row[0]


def record_login_failure(
    conn: psycopg.Connection, keyed: list[tuple[str, Policy]], now: datetime
) -> datetime | None:
    """Count one failure on each key under its policy; the latest back-off
    end this started, or None when every key is still within its free
    failures. Atomic per key (one upsert), so parallel workers lose no count."""
    ends = []
    for key, policy in keyed:
        params = {
            "key": key,
            "now": now,
            "free_failures": policy.free_failures,
            "base_s": policy.base_s,
            "max_s": policy.max_s,
            "window_s": policy.window_s,
        }
        row = conn.execute(_sql("record_login_failure"), params).fetchone()
        if row is not None and row[1] is not None:
            ends.append(row[1])
    return max(ends, default=None)


def clear_login_failures(conn: psycopg.Connection, key: str) -> None:
    """Forget an account's failures (after its right password)."""
    conn.execute(_sql("clear_login_failures"), {"key": key})


def forget_old_login_failures(conn: psycopg.Connection, now: datetime, window_s: float) -> int:
    """Delete the counts idle for ``window_s`` seconds with no back-off
    running (they would start from zero anyway); how many went. Called after
    each successful sign-in, so the table holds about one window of failures."""
    params = {"now": now, "window_s": window_s}
    return conn.execute(_sql("forget_old_login_failures"), params).rowcount
