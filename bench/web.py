"""Benchmark: many walls, desks and replay pages on one dashboard server.

The demo's data, live: a private PostgreSQL and Mosquitto (or DATABASE_URL's
server), the sample city, and the demo's ingest, dispatcher and simulator
(40 units moving, 110 calls coming in) as subprocesses. Each server under
test is ``dispatchmap serve`` in a process of its own, as a station runs it
(``DM_DASH_SERVER=dev``: Flask's development server, the baseline;
``gunicorn``: the production server; ``granian`` is measured too when the
package is installed).

The requests are the pages' own: Chromium (Debian's, through Playwright)
opens /wall, /desk (an incident selected) and /replay (a window playing at
60×), signed in, and every ``/_dash-update-component`` body a timer sent is
recorded. Each simulated client then signs in with a session of its own and
sends its page's recorded bodies at the page's own rates (the map tick every
``refresh_ms``, the replay player every 500 ms, the wall's shift charts
every 30 s), feeding the live layer's version back as the page does, so an
idle tick stays small. Latency is per request, on a kept-alive connection.

Run from the repository root: ``.venv/bin/python bench/web.py``. The goal on
the 2-core machine is 1 wall + 30 desks + 5 replays with p95 <= 250 ms and no
error; then desks are added until p95 passes 1 s. One line per server, the
production server's last:
``web walls=W desks=D replays=R p50_ms=A p95_ms=B errors=E max_desks_p95_1s=M``
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

import psycopg
from playwright.sync_api import sync_playwright
from scratch import scratch_database

from dashboard import ids
from dashboard.layout.replay import PLAY_EVERY_MS
from dashboard.layout.wall import SHIFT_REFRESH_MS
from dispatchmap.cli import load_city
from dispatchmap.services import EmbeddedMosquitto, free_port, wait_for_port
from dispatchmap.settings import DashboardSettings
from geo.intake import NewIncident
from store.migrate import upgrade
from usecases import access
from usecases import incidents as inc

PASSWORD = "a long bench password"
GOAL_P95_MS = 250.0
# The timers whose calls a page repeats, and how often (seconds).
PERIODS = {
    ids.TICK: DashboardSettings().refresh_ms / 1000,
    ids.DESK_TICK: DashboardSettings().refresh_ms / 1000,
    ids.REPLAY_PLAYER: PLAY_EVERY_MS / 1000,
    ids.WALL_CHARTS_TICK: SHIFT_REFRESH_MS / 1000,
}
# The live layer's delta output and the version store the page sends back.
VERSIONS = {ids.UNITS_DELTA: ids.UNITS_VERSION, ids.DESK_UNITS_DELTA: ids.DESK_UNITS_VERSION}


@dataclass
class Call:
    """One recorded callback request: its body and how often the page sends it."""

    period_s: float
    body: dict[str, Any]


@dataclass
class Tally:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, ms: float, ok: bool) -> None:
        with self.lock:
            self.latencies_ms.append(ms)
            self.errors += not ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each load step")
    parser.add_argument("--desks", type=int, default=30)
    parser.add_argument("--replays", type=int, default=5)
    parser.add_argument("--max-desks", type=int, default=200)
    parser.add_argument("--servers", default="dev,gunicorn" + _granian())
    args = parser.parse_args()
    with ExitStack() as stack:
        env = fleet(stack)
        lines = []
        for kind in args.servers.split(","):
            base = serve(stack, env, kind)
            calls = record(base)
            lines.append(measure(base, kind, calls, args))
            print(lines[-1].replace("web ", f"web server={kind} "), flush=True)
        print(lines[-1])


def _granian() -> str:
    return ",granian" if importlib.util.find_spec("granian") else ""


def fleet(stack: ExitStack) -> dict[str, str]:
    """The demo's data, live; returns the environment for ``dispatchmap`` commands."""
    url = scratch_database(stack, "bench_web")
    with psycopg.connect(url) as conn:
        upgrade(conn)
    load_city(url, None, None, 1)
    with psycopg.connect(url) as conn:
        for role in ("commander", "reviewer"):
            access.set_password(conn, f"bench-{role}", role, PASSWORD)
        now = datetime.now(UTC)
        call = NewIncident("assault", 1, 24.9440, 60.1690, now, "bench", None)
        inc.create_incident(conn, call, "110", "110", now)
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="dm-web-")))
    mqtt_url = stack.enter_context(EmbeddedMosquitto(folder / "mqtt")).url
    env = {**os.environ, "DATABASE_URL": url, "MQTT_URL": mqtt_url, "DM_DASH_ACCESS_LOG": "false"}
    env["DM_INGEST_METRICS_PORT"] = str(free_port())
    for cmd in (["ingest"], ["dispatcher"], ["simulate", "--incidents-per-hour", "120"]):
        _child(stack, [*cmd], env)
    time.sleep(20)  # the fleet's first fixes and calls, as a room has them
    return env


def _child(stack: ExitStack, cmd: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    child = subprocess.Popen(
        [sys.executable, "-m", "dispatchmap.cli", *cmd],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def stop() -> None:
        child.terminate()
        try:
            child.wait(20)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()

    stack.callback(stop)
    return child


def serve(stack: ExitStack, env: dict[str, str], kind: str) -> str:
    """``dispatchmap serve`` (or granian on the same app) on a port of its own."""
    port = free_port()
    if kind == "granian":
        cmd = [
            *("-m", "granian", "--interface", "wsgi", "--factory", "--workers", "2"),
            *("--blocking-threads", "8", "--host", "127.0.0.1", "--port", str(port)),
            "dispatchmap.web:wsgi_app",
        ]
        # The Host check answers the port served (as `serve --port` tells it).
        served = {**env, "DM_DASH_PORT": str(port)}
        child = subprocess.Popen([sys.executable, *cmd], env=served, stdout=subprocess.DEVNULL)
        stack.callback(lambda: (child.terminate(), child.wait(20)))
    else:
        _child(stack, ["serve", "--port", str(port)], {**env, "DM_DASH_SERVER": kind})
    wait_for_port(port, 60)
    return f"http://127.0.0.1:{port}"


def record(base: str) -> dict[str, list[Call]]:
    """Each page's timer calls, recorded from the page in Chromium."""
    chromium = shutil.which("chromium")
    out: dict[str, list[Call]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        for page_name, role, start in (
            ("wall", "commander", _open_wall),
            ("desk", "commander", _open_desk),
            ("replay", "reviewer", _open_replay),
        ):
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            seen: dict[str, Call] = {}
            page.on("request", lambda r, seen=seen: _keep(r, seen))
            page.goto(f"{base}/login?next=/{page_name}")
            page.fill("input[name=name]", f"bench-{role}")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/{page_name}")
            start(page)
            page.wait_for_timeout(4000)
            out[page_name] = list(seen.values())
            page.close()
        browser.close()
    for name, calls in out.items():
        if not calls:
            raise SystemExit(f"the {name} page sent no timer call: nothing to replay")
    return out


def _keep(request: Any, seen: dict[str, Call]) -> None:
    if urlsplit(request.url).path != "/_dash-update-component":
        return
    body = json.loads(request.post_data or "{}")
    fired = [p.rpartition(".")[0] for p in body.get("changedPropIds") or []]
    timer = next((f for f in fired if f in PERIODS), None)
    if timer is not None:
        seen[body["output"]] = Call(PERIODS[timer], body)


def _open_wall(page: Any) -> None:
    page.locator(".leaflet-roads-pane canvas").wait_for(timeout=30000)


def _open_desk(page: Any) -> None:
    row = page.locator('[id*="queue-row"]').first
    row.wait_for(timeout=60000)
    row.click()
    page.get_by_role("button", name="Dispatch").first.wait_for(timeout=30000)


def _open_replay(page: Any) -> None:
    tz = ZoneInfo(DashboardSettings().timezone)
    now = datetime.now(UTC)
    page.fill("#replay-start", (now - timedelta(minutes=1)).astimezone(tz).strftime("%H:%M"))
    page.fill("#replay-end", (now + timedelta(minutes=1)).astimezone(tz).strftime("%H:%M"))
    page.click("#replay-load")
    page.locator("#replay-time").wait_for(timeout=30000)
    page.click("#replay-speed")
    page.get_by_text("60×").click()
    page.click("#replay-play")


def measure(base: str, kind: str, calls: dict[str, list[Call]], args: argparse.Namespace) -> str:
    """The goal's mix, then more desks until p95 passes 1 s."""
    tally = load(base, calls, 1, args.desks, args.replays, args.seconds)
    p50, p95 = _percentiles(tally)
    held = args.desks if p95 <= 1000 and not tally.errors else 0
    desks = args.desks
    while held == desks and desks < args.max_desks:
        desks = min(args.max_desks, int(desks * 1.5))
        more = load(base, calls, 1, desks, args.replays, args.seconds)
        _, more_p95 = _percentiles(more)
        print(f"  {kind} desks={desks} p95_ms={more_p95:.0f} errors={more.errors}", flush=True)
        if more_p95 <= 1000 and not more.errors:
            held = desks
    return (
        f"web walls=1 desks={args.desks} replays={args.replays} p50_ms={p50:.0f} "
        f"p95_ms={p95:.0f} errors={tally.errors} max_desks_p95_1s={held}"
    )


def _percentiles(tally: Tally) -> tuple[float, float]:
    cuts = statistics.quantiles(tally.latencies_ms, n=100)
    return cuts[49], cuts[94]


def load(
    base: str, calls: dict[str, list[Call]], walls: int, desks: int, replays: int, seconds: float
) -> Tally:
    tally = Tally()
    pages = ["wall"] * walls + ["desk"] * desks + ["replay"] * replays
    role = {"wall": "commander", "desk": "commander", "replay": "reviewer"}
    # Each page its own session, signed in before the load starts (the server
    # checks at most DM_DASH_LOGIN_CONCURRENCY passwords at once: a crowd of
    # sign-ins is answered "busy, retry" and is no part of the page load).
    cookies = [_sign_in(base, role[p]) for p in pages]
    stop = time.monotonic() + seconds
    threads = [
        threading.Thread(target=_client, args=(base, cookie, calls[p], stop, tally), daemon=True)
        for p, cookie in zip(pages, cookies, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 60)
    return tally


def _client(base: str, cookie: str, calls: list[Call], stop: float, tally: Tally) -> None:
    """One page with its session: sends each call at its own period until ``stop``."""
    host = base.removeprefix("http://")
    conn = http.client.HTTPConnection(host, timeout=30)
    bodies = [json.loads(json.dumps(c.body)) for c in calls]
    due = [time.monotonic() + i * 0.05 for i in range(len(calls))]
    while True:
        i = min(range(len(calls)), key=due.__getitem__)
        if due[i] > stop:
            break
        time.sleep(max(0.0, due[i] - time.monotonic()))
        started = time.monotonic()
        status, answer = _post(conn, host, cookie, bodies[i])
        tally.add((time.monotonic() - started) * 1000, status in (200, 204))
        if status == 200:
            _feed_back(bodies[i], answer)
        due[i] += calls[i].period_s
    conn.close()


def _sign_in(base: str, role: str) -> str:
    """A session cookie for ``bench-{role}``; a busy or throttled answer is
    retried after its Retry-After, as a browser's user would."""
    form = urlencode({"name": f"bench-{role}", "password": PASSWORD, "next": "/desk"})
    for _ in range(20):
        conn = http.client.HTTPConnection(base.removeprefix("http://"), timeout=30)
        conn.request("POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded"})
        response = conn.getresponse()
        response.read()
        conn.close()
        cookie = response.getheader("Set-Cookie") or ""
        if response.status == 303 and cookie:
            return cookie.split(";", 1)[0]
        if response.status not in (429, 503):
            break
        time.sleep(float(response.getheader("Retry-After") or 1))
    raise SystemExit(f"sign-in as bench-{role} failed: {response.status}")


def _post(
    conn: http.client.HTTPConnection, host: str, cookie: str, body: dict[str, Any]
) -> tuple[int, bytes]:
    headers = {
        "Content-Type": "application/json",
        "Cookie": cookie,
        "Origin": f"http://{host}",
        "Accept-Encoding": "identity",
    }
    try:
        conn.request("POST", "/_dash-update-component", json.dumps(body), headers)
        response = conn.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException):
        conn.close()  # reconnects on the next request
        return 0, b""


def _feed_back(body: dict[str, Any], answer: bytes) -> None:
    """Send back the live layer's version as the page does after applying a delta."""
    if not answer:
        return
    outputs = json.loads(answer).get("response", {})
    for delta_id, version_id in VERSIONS.items():
        version = (outputs.get(delta_id) or {}).get("data")
        if isinstance(version, dict) and "version" in version:
            for state in body.get("state") or []:
                if isinstance(state, dict) and state.get("id") == version_id:
                    state["value"] = version["version"]


if __name__ == "__main__":
    main()
