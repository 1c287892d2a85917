"""`dispatchmap serve` as a station runs it: gunicorn with a bounded number
of workers, answers compressed and kept alive, assets cached, an access log
that never writes a wall token, and a graceful restart that drops nothing."""

from __future__ import annotations

import gzip
import http.client
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from dispatchmap.services import free_port, wait_for_port
from tests.conftest import wait_until
from usecases import access

WORKERS = 2


@pytest.fixture
def served(db_url: str, tmp_path: Path) -> Iterator[tuple[int, subprocess.Popen[bytes], Path]]:
    port = free_port()
    log = tmp_path / "serve.log"
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "DM_DASH_WORKERS": str(WORKERS),
        "DM_DASH_THREADS": "4",
    }
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dispatchmap.cli", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, 60, proc)
        yield port, proc, log
    finally:
        proc.terminate()
        assert proc.wait(30) == 0, log.read_text()


def get(conn: http.client.HTTPConnection, path: str, **headers: str) -> http.client.HTTPResponse:
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    response.body = response.read()  # type: ignore[attr-defined]
    return response


def workers_of(pid: int) -> set[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return {int(c) for c in children}


def test_the_production_server_compresses_keeps_alive_and_caches(served):
    port, proc, _ = served
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    plain = get(conn, "/_dash-dependencies")
    packed = get(conn, "/_dash-dependencies", **{"Accept-Encoding": "gzip"})
    assert plain.status == packed.status == 200
    assert packed.getheader("Content-Encoding") == "gzip"
    assert gzip.decompress(packed.body) == plain.body  # type: ignore[attr-defined]
    assert len(packed.body) < len(plain.body) / 2  # type: ignore[attr-defined]
    # Both answers came over the one connection: it was kept alive.
    assert not plain.will_close and not packed.will_close
    css = get(conn, "/assets/wall.css")
    assert css.status == 200 and "max-age=86400" in (css.getheader("Cache-Control") or "")
    conn.close()
    assert len(workers_of(proc.pid)) == WORKERS


def test_the_access_log_never_writes_a_wall_token(served, db_url):
    port, _, log = served
    with psycopg.connect(db_url) as conn:
        token = access.add_wall_token(conn, "screen 1", "admin")
    conn_http = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    opened = get(conn_http, f"/wall?token={token}")
    conn_http.close()
    assert opened.status == 303  # the token becomes a cookie
    wait_until(lambda: '"GET /wall" 303' in log.read_text(), 10, message="the access log line")
    assert token not in log.read_text()


def test_a_graceful_restart_drops_no_request(served):
    port, proc, _ = served
    before = workers_of(proc.pid)
    statuses: list[int] = []
    stop = threading.Event()

    def hammer() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while not stop.is_set():
            try:
                statuses.append(get(conn, "/healthz").status)
            except (OSError, http.client.HTTPException):
                statuses.append(0)
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.close()

    thread = threading.Thread(target=hammer)
    thread.start()
    try:
        wait_until(lambda: len(statuses) > 20, 10, message="requests before the restart")
        proc.send_signal(signal.SIGHUP)
        wait_until(
            lambda: len(workers_of(proc.pid) - before) == WORKERS,
            30,
            message="new workers after SIGHUP",
        )
        seen = len(statuses)
        wait_until(lambda: len(statuses) > seen + 20, 10, message="requests after the restart")
    finally:
        stop.set()
        thread.join(15)
    assert statuses.count(200) == len(statuses), sorted(set(statuses))
