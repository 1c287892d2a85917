"""Failed sign-ins counted per account and per address, with a back-off that
grows with every failure past a free allowance.

The counts live in PostgreSQL (``login_throttle``), so that every server
process sees one back-off. A name is counted by a keyed hash of what was typed
(:func:`masked_name`), never in clear: people type passwords into the name
field. Functions take the connection first and never commit.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

import psycopg

from geo.queries import sql


@dataclass(frozen=True, slots=True)
class Policy:
    """How failures are forgiven and punished, per key (account or address).

    ``free_failures`` failures within ``window_s`` seconds cost nothing; the
    next blocks the key for ``base_s`` seconds, each further one for twice as
    long as the one before, at most ``max_s``. A key with no failure for
    ``window_s`` seconds starts again from zero."""

    free_failures: int = 5
    base_s: float = 1.0
    max_s: float = 900.0
    window_s: float = 900.0


def masked_name(conn: psycopg.Connection, name: str) -> str:
    """``"?"`` + the first 12 hex digits of HMAC-SHA-256 of ``name`` under the
    database's own random key: the same for the same text in every process,
    useless for guessing what was typed without that key."""
    row = conn.execute(sql("name_mask_key")).fetchone()
    if row is None:
        raise RuntimeError("name_mask_key is empty: run `dispatchmap db upgrade`")
    return "?" + hmac.new(bytes(row[0]), name.encode(), hashlib.sha256).hexdigest()[:12]


def account_key(masked: str) -> str:
    """The throttle key of an account (by the mask of the name typed)."""
    return f"name:{masked}"


def address_key(ip: str | None) -> str:
    """The throttle key of a client address."""
    return f"ip:{ip or '?'}"


def login_blocked_until(
    conn: psycopg.Connection, keys: list[str], now: datetime
) -> datetime | None:
    """When the longest back-off running for any of ``keys`` ends; None if none runs."""
    row = conn.execute(sql("login_blocked_until"), {"keys": keys, "now": now}).fetchone()
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
        row = conn.execute(sql("record_login_failure"), params).fetchone()
        if row is not None and row[1] is not None:
            ends.append(row[1])
    return max(ends, default=None)


def clear_login_failures(conn: psycopg.Connection, key: str) -> None:
    """Forget an account's failures (after its right password)."""
    conn.execute(sql("clear_login_failures"), {"key": key})


def forget_old_login_failures(conn: psycopg.Connection, now: datetime, window_s: float) -> int:
    """Delete the counts idle for ``window_s`` seconds with no back-off
    running (they would start from zero anyway); how many went. Called after
    each successful sign-in, so the table holds about one window of failures."""
    params = {"now": now, "window_s": window_s}
    return conn.execute(sql("forget_old_login_failures"), params).rowcount
