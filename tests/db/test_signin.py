"""Sign-in under attack, against the served dashboard and its real database:
the back-off (shared by server processes), the bound on password checks and
the memory it keeps, the name length limit, and names kept masked on /admin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from dispatchmap.services import free_port, wait_for_port
from dispatchmap.settings import DashboardSettings
from geo import throttle
from store import access as access_store
from tests.helpers import http_exchange as request
from tests.helpers import served_dashboard
from usecases import access

PASSWORD = "a long test password"
REPO = Path(__file__).resolve().parents[2]


def login(base: str, name: str, password: str, next_path: str = "/desk"):
    return request(f"{base}/login", {"name": name, "password": password, "next": next_path})


def audit(db_url: str, where: str = "TRUE") -> list[tuple]:
    with psycopg.connect(db_url) as conn:
        return conn.execute(
            f"SELECT actor, action, ok, detail FROM audit_log WHERE {where} ORDER BY id"
        ).fetchall()


def add_user(db_url: str, name: str, role: str = "dispatcher") -> None:
    with psycopg.connect(db_url) as conn:
        access.add_user(conn, name, role, PASSWORD)


def quick(**kwargs) -> DashboardSettings:
    """Settings with a short back-off (1 s, doubling) after two free failures."""
    base = {"login_account_free_failures": 2, "login_address_free_failures": 50}
    return DashboardSettings(login_backoff_s=1.0, **{**base, **kwargs})


def test_failures_back_off_growing_and_the_right_password_works_after(db_url):
    add_user(db_url, "alice")
    with served_dashboard(db_url, quick()) as base:
        assert [login(base, "alice", "wrong password")[0] for _ in range(3)] == [401, 401, 401]
        status, headers, body = login(base, "alice", PASSWORD)  # the third failure blocked 1 s
        assert status == 429 and headers["Retry-After"] == "1"
        assert "Too many failed sign-ins: try again in 1 s." in body
        time.sleep(int(headers["Retry-After"]))  # what a client is told to do
        assert login(base, "alice", "wrong again")[0] == 401  # blocks twice as long: 2 s
        status, headers, _ = login(base, "alice", PASSWORD)
        assert status == 429 and headers["Retry-After"] == "2"
        time.sleep(int(headers["Retry-After"]))
        status, headers, _ = login(base, "alice", PASSWORD)
        assert status == 303 and headers["Location"] == "/desk"
        assert login(base, "alice", "wrong password")[0] == 401  # the count began again
    rows = [(actor, action, ok) for actor, action, ok, _ in audit(db_url)]
    assert rows == [
        *[("alice", "login", False)] * 3,
        ("alice", "login_throttled", False),
        ("alice", "login", False),
        ("alice", "login_throttled", False),
        ("alice", "login", True),
        ("alice", "login", False),
    ]


def test_the_back_off_holds_across_server_processes(db_url):
    """Two servers on one database (as two workers would be): failures on one
    throttle the other. Each has its own semaphore; the count is in the database."""
    add_user(db_url, "bob")
    with served_dashboard(db_url, quick()) as one, served_dashboard(db_url, quick()) as two:
        assert [login(one, "bob", "wrong password")[0] for _ in range(3)] == [401] * 3
        status, headers, _ = login(two, "bob", PASSWORD)
        assert status == 429 and int(headers["Retry-After"]) >= 1
    with psycopg.connect(db_url) as conn:
        key = throttle.account_key(access.masked_name(conn, "bob"))
        stored = conn.execute("SELECT key, failures FROM login_throttle ORDER BY key").fetchall()
    assert stored == [("ip:127.0.0.1", 3), (key, 3)]  # the name only as its mask


def test_a_parallel_flood_is_bounded_throttled_and_every_attempt_audited(db_url):
    add_user(db_url, "carol")
    with served_dashboard(db_url, quick(login_account_free_failures=1), pool_size=8) as base:
        answers = flood(base, "carol", 16)
        statuses = Counter(status for status, _ in answers)
        assert set(statuses) <= {401, 429, 503} and statuses[401] >= 1
        assert statuses[503] > 0  # 16 at once, 2 checks at a time: the rest are told to wait
        assert all(retry is not None and int(retry) >= 1 for s, retry in answers if s != 401)
        # One failure is free; the second starts the back-off.
        assert login(base, "carol", "wrong")[0] == (401 if statuses[401] == 1 else 429)
        status, headers, _ = login(base, "carol", PASSWORD)
        assert status == 429
        time.sleep(int(headers["Retry-After"]))  # the longest back-off running, whole
        assert login(base, "carol", PASSWORD)[0] == 303
    actions = Counter(action for _, action, _, _ in audit(db_url, "NOT ok"))
    assert sum(actions.values()) == 18  # every attempt of the flood, and the two after
    assert actions["login_busy"] == statuses[503]
    assert actions["login"] == statuses[401] + (statuses[401] == 1)


def flood(base: str, name: str, parallel: int) -> list[tuple[int, str | None]]:
    """``parallel`` wrong sign-ins released at once: (status, Retry-After) each."""
    start, answers = threading.Barrier(parallel), []

    def one(i: int) -> None:
        start.wait()
        status, headers, _ = login(base, name, f"wrong password {i}")
        answers.append((status, headers["Retry-After"]))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(parallel)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def status_kb(pid: int, field: str) -> int:
    line = next(
        x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith(field)
    )
    return int(line.split()[1])


def test_a_wrong_login_flood_keeps_the_server_memory_bounded(db_url):
    """A real ``dispatchmap serve`` process: its peak memory under 16 parallel
    wrong sign-ins grows by about two argon2id checks (64 MiB each), not 16."""
    add_user(db_url, "dave")
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "DATABASE_URL": db_url,
        "DM_DASH_LOGIN_CONCURRENCY": "2",
        "DM_DASH_LOGIN_ACCOUNT_FREE_FAILURES": "100",  # every attempt reaches the semaphore
        "DM_DASH_LOGIN_ADDRESS_FREE_FAILURES": "100",
    }
    cmd = [sys.executable, "-m", "dispatchmap.cli", "serve", "--port", str(port)]
    server = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.DEVNULL)
    try:
        wait_for_port(port, 60, server)
        base = f"http://127.0.0.1:{port}"
        assert login(base, "dave", PASSWORD)[0] == 303  # one check done: its memory is in
        before_kb = status_kb(server.pid, "VmRSS")
        answers = [a for _ in range(3) for a in flood(base, "dave", 16)]
        growth_mb = (status_kb(server.pid, "VmHWM") - before_kb) / 1024
        assert login(base, "dave", PASSWORD)[0] == 303
    finally:
        server.terminate()
        server.wait(10)
    assert {s for s, _ in answers} <= {401, 503}
    # Unbounded, the same flood grew the server by about 500 MB (bench/login_flood.py).
    assert growth_mb < 2 * 64 + 64, f"the server grew by {growth_mb:.0f} MB"


def test_a_name_over_128_characters_is_refused_unlooked_up(db_url):
    add_user(db_url, "erin")
    with served_dashboard(db_url, DashboardSettings()) as base:
        status, _, body = login(base, "x" * 129, "whatever password")
        assert status == 400 and "Name: at most 128 characters." in body
        assert 'maxlength="128"' in request(f"{base}/login")[2]
        assert login(base, "y" * 128, "whatever password")[0] == 401  # 128 is a name
    rows = audit(db_url)
    assert rows[0] == (
        "?",
        "login",
        False,
        {"refused": "name too long"},
    )
    assert all("x" * 20 not in json.dumps(row) and "y" * 20 not in json.dumps(row) for row in rows)


def test_an_unknown_name_shows_masked_on_admin(db_url):
    add_user(db_url, "root1", "admin")
    secret = "Correct-Horse-Battery-9"  # a password typed into the name field
    with served_dashboard(db_url, DashboardSettings()) as base:
        assert login(base, secret, "")[0] == 401
        status, headers, _ = login(base, "root1", PASSWORD, "/admin")
        assert status == 303 and headers["Location"] == "/admin"
        cookie = headers["Set-Cookie"].split(";")[0]
        body = {
            "output": "page.children",
            "outputs": {"id": "page", "property": "children"},
            "inputs": [{"id": "url", "property": "pathname", "value": "/admin"}],
            "changedPropIds": ["url.pathname"],
        }
        headers = {"Content-Type": "application/json", "Cookie": cookie}
        status, _, page = request(
            f"{base}/_dash-update-component", json.dumps(body).encode(), headers
        )
    with psycopg.connect(db_url) as conn:
        masked = access.masked_name(conn, secret)
    assert status == 200 and "root1" in page
    assert masked in page and secret not in page and secret.lower() not in page.lower()
    assert secret not in json.dumps(audit(db_url))


def test_idle_counts_are_forgotten_and_a_running_back_off_kept(conn):
    now = datetime.now(UTC)
    policy = throttle.Policy(free_failures=0, base_s=3600, max_s=3600, window_s=60)
    old, blocked = [("ip:10.0.0.1", policy)], [("ip:10.0.0.2", policy)]
    access_store.record_login_failure(conn, old, now - timedelta(hours=2))  # blocked until 1 h ago
    access_store.record_login_failure(conn, blocked, now - timedelta(minutes=30))  # 30 min more
    access_store.record_login_failure(conn, [("ip:10.0.0.3", policy)], now)
    assert access_store.forget_old_login_failures(conn, now, 60) == 1
    keys = [k for (k,) in conn.execute("SELECT key FROM login_throttle ORDER BY key")]
    assert keys == ["ip:10.0.0.2", "ip:10.0.0.3"]
    assert access_store.login_blocked_until(conn, ["ip:10.0.0.2"], now) == now + timedelta(
        minutes=30
    )


def test_behind_a_proxy_failures_count_per_forwarded_address(db_url):
    """With DM_DASH_PROXY_HOPS=1 (nginx in front) the throttle counts each
    client's address from X-Forwarded-For; with 0 the header is not believed."""
    add_user(db_url, "alice")
    per_address = {"login_account_free_failures": 50, "login_address_free_failures": 0}

    def statuses(settings: DashboardSettings) -> list[int]:
        with served_dashboard(db_url, settings) as base:
            form = {"name": "alice", "password": "wrong password", "next": "/desk"}
            return [
                request(f"{base}/login", form, {"X-Forwarded-For": address})[0]
                for address in ("203.0.113.7", "203.0.113.7", "198.51.100.9")
            ]

    # The first failure from .7 blocks .7 only; .9 is another client.
    assert statuses(quick(proxy_hops=1, **per_address)) == [401, 429, 401]
    with psycopg.connect(db_url) as conn:
        ips = conn.execute("SELECT DISTINCT ip FROM audit_log WHERE action = 'login'").fetchall()
        conn.execute("DELETE FROM login_throttle")
    assert {ip for (ip,) in ips} == {"203.0.113.7", "198.51.100.9"}
    # Not believed: every request is 127.0.0.1, one client, blocked by its first failure.
    assert statuses(quick(proxy_hops=0, **per_address)) == [401, 429, 429]
