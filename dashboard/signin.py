"""``POST /login`` under attack: a name length limit, a back-off on failures
per account and per address (kept in PostgreSQL, see :mod:`geo.throttle`),
and a bound on the password checks running at once in this process.

argon2id is memory-hard (about 64 MiB a check with the library's defaults):
sixteen wrong logins at once took a server from 190 to 650 MB. A check runs
only with one of ``login_concurrency`` slots; with none free the answer is
503 and ``Retry-After``, at once (a thread waiting for a slot would still be
a thread tied up by the flood). A throttled attempt is refused before any
password check. Every failure and every refusal is audited.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg_pool import ConnectionPool

from dashboard.i18n import t
from dispatchmap.settings import DashboardSettings
from geo import throttle
from geo.access import MAX_LOGIN_NAME_CHARS
from store import access as access_store
from usecases import access

# A busy server asks the browser to come back after this many seconds.
BUSY_RETRY_S = 1


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one sign-in attempt gave: a session token, or an error to show
    with its HTTP status and ``Retry-After`` seconds (None: no header)."""

    token: str | None = None
    error: str = ""
    status: int = 200
    retry_after_s: int | None = None


class Gate:
    """The sign-in checks of one server process (its semaphore is per process;
    the back-off is shared through the database)."""

    def __init__(self, cfg: DashboardSettings, now: Callable[[], datetime] | None = None) -> None:
        self.slots = threading.BoundedSemaphore(cfg.login_concurrency)
        self.language = cfg.language
        self.lifetime = timedelta(hours=cfg.session_hours)
        self.account = throttle.Policy(
            cfg.login_account_free_failures, cfg.login_backoff_s, cfg.login_backoff_max_s
        )
        self.address = throttle.Policy(
            cfg.login_address_free_failures, cfg.login_backoff_s, cfg.login_backoff_max_s
        )
        self.now = now or (lambda: datetime.now(UTC))

    def attempt(self, pool: ConnectionPool, name: str, password: str, ip: str | None) -> Outcome:
        """Try to sign ``name`` in from address ``ip``; commits its audit rows
        whatever the outcome."""
        if len(name) > MAX_LOGIN_NAME_CHARS:
            with pool.connection() as conn:
                access.login(conn, name, password, self.now(), self.lifetime, ip)
                self._fail(conn, None, ip)
            limit = MAX_LOGIN_NAME_CHARS
            text = t("Name: at most {count} characters.", self.language, count=limit)
            return Outcome(error=text, status=400)
        with pool.connection() as conn:
            masked = access.masked_name(conn, name)
            keys = [throttle.account_key(masked), throttle.address_key(ip)]
            blocked = access_store.login_blocked_until(conn, keys, self.now())
            if blocked is not None:
                actor = access.login_actor(conn, name)
                access.audit(
                    conn, actor, "login_throttled", False, ip=ip, detail={"until": blocked}
                )
                return self._throttled(blocked)
        if not self.slots.acquire(blocking=False):
            with pool.connection() as conn:
                actor = access.login_actor(conn, name)
                access.audit(conn, actor, "login_busy", False, ip=ip)
            busy = t("The server is busy checking other sign-ins: try again.", self.language)
            return Outcome(error=busy, status=503, retry_after_s=BUSY_RETRY_S)
        try:
            with pool.connection() as conn:
                found = access.login(conn, name, password, self.now(), self.lifetime, ip)
                if found is not None:
                    access_store.clear_login_failures(conn, keys[0])
                    window_s = max(self.account.window_s, self.address.window_s)
                    access_store.forget_old_login_failures(conn, self.now(), window_s)
                    return Outcome(token=found[0])
                self._fail(conn, masked, ip)
        finally:
            self.slots.release()
        return Outcome(error=t("Wrong name or password.", self.language), status=401)

    def _fail(self, conn: psycopg.Connection, masked: str | None, ip: str | None) -> None:
        """Count a failure on the address, and on the account when one was typed."""
        keyed = [(throttle.address_key(ip), self.address)]
        if masked is not None:
            keyed.append((throttle.account_key(masked), self.account))
        access_store.record_login_failure(conn, keyed, self.now())

    def _throttled(self, until: datetime) -> Outcome:
        wait_s = max(1, math.ceil((until - self.now()).total_seconds()))
        text = t(
            "Too many failed sign-ins: try again in {seconds} s.", self.language, seconds=wait_s
        )
        return Outcome(error=text, status=429, retry_after_s=wait_s)
