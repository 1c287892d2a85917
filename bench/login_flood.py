"""Benchmark: a server process's memory under a flood of wrong sign-ins.

A ``dispatchmap serve`` process runs on a fresh database (a private
PostgreSQL under a temp folder); after one warm-up sign-in, ``--parallel``
clients each post a wrong password at the same moment, ``--rounds`` times.
The server's resident memory (``VmRSS``) is read before the flood, its peak
(``VmHWM``) after; the answers are counted by status.

Run from the repository root: ``.venv/bin/python bench/login_flood.py``;
``--tree DIR`` serves the code of another checkout (e.g. an ``git archive``
of the commit before the change) on the same database. The last line is the
figure the report quotes:
``login_flood parallel=N rss_before_mb=A peak_mb=B growth_mb=C statuses={...}``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

import psycopg

from dispatchmap.runtime import create_database
from dispatchmap.services import EmbeddedPostgres, free_port, wait_for_port
from store.migrate import upgrade
from usecases import access

PASSWORD = "the right password 1"


def memory_kb(pid: int, field: str) -> int:
    """``VmRSS`` or ``VmHWM`` of a process, in kB (from /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def post_login(url: str, name: str, password: str) -> int:
    """The status of one ``POST /login`` (redirects not followed)."""
    data = urllib.parse.urlencode({"name": name, "password": password, "next": "/desk"}).encode()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(f"{url}/login", data=data), timeout=60) as r:
            return int(r.status)
    except urllib.error.HTTPError as exc:
        with exc:
            return int(exc.code)


def flood(url: str, parallel: int, name: str) -> Counter[int]:
    """``parallel`` wrong sign-ins released at once; their statuses."""
    start, statuses, lock = threading.Barrier(parallel), Counter[int](), threading.Lock()

    def one(i: int) -> None:
        start.wait()
        status = post_login(url, name, f"wrong password {i:04d}")
        with lock:
            statuses[status] += 1

    threads = [threading.Thread(target=one, args=(i,)) for i in range(parallel)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def run(db_url: str, tree: Path, parallel: int, rounds: int) -> str:
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(tree),
        "DATABASE_URL": db_url,
        "DM_DASH_PORT": str(port),
        # Every wrong sign-in is checked: the throttle must not hide the cost.
        "DM_DASH_LOGIN_ACCOUNT_FREE_FAILURES": str(parallel * rounds + 1),
        "DM_DASH_LOGIN_ADDRESS_FREE_FAILURES": str(parallel * rounds + 1),
    }
    cmd = [sys.executable, "-m", "dispatchmap.cli", "serve", "--port", str(port)]
    server = subprocess.Popen(cmd, env=env, cwd=tree, stdout=subprocess.DEVNULL)
    try:
        wait_for_port(port, 60, server)
        url = f"http://127.0.0.1:{port}"
        assert post_login(url, "bench", PASSWORD) == 303, "warm-up sign-in failed"
        before_kb = memory_kb(server.pid, "VmRSS")
        statuses: Counter[int] = Counter()
        for _ in range(rounds):
            statuses += flood(url, parallel, "bench")
        peak_kb = memory_kb(server.pid, "VmHWM")
        after = post_login(url, "bench", PASSWORD)
    finally:
        server.terminate()
        server.wait(10)
    return (
        f"login_flood parallel={parallel} rounds={rounds} rss_before_mb={before_kb / 1024:.0f} "
        f"peak_mb={peak_kb / 1024:.0f} growth_mb={(peak_kb - before_kb) / 1024:.0f} "
        f"statuses={dict(sorted(statuses.items()))} right_password_after={after}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tree", type=Path, default=Path.cwd())
    parser.add_argument("--parallel", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, EmbeddedPostgres(Path(folder) / "pg") as pg:
        db_url = create_database(pg.url, "login_flood")
        with psycopg.connect(db_url) as conn:
            upgrade(conn)
            access.set_password(conn, "bench", "dispatcher", PASSWORD)
        print(run(db_url, args.tree.resolve(), args.parallel, args.rounds), flush=True)


if __name__ == "__main__":
    main()
