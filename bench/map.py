"""Benchmark: one live update of the wall's map with 5,000 units, in Chromium.

A fresh database gets the sample city and is topped up to ``--units`` roster
units, each with a latest fix on the roads. The dashboard is served from this
process (demo mode, so /wall opens without a token) and Debian's Chromium
opens /wall headless through Playwright. After the first full load, a share
of the units (``--share``, then every unit) moves in one transaction, as a
busy ingest batch would, and the next live update is measured:
``update_bytes`` is the body of the Dash ``_dash-update-component`` response
that carried the units delta (the wall's counters and alarms ride in it too),
``apply_ms`` the time ``dm.live.apply`` took in the page (performance.now()
around it, read from ``window.dm.live.log``), ``paint_ms`` until the frame
after it was drawn. An update with nothing changed is measured too.

The ceiling, measured in the same page: the same number of bare Leaflet
circle markers moved with ``setLatLng`` and nothing else, which no layer
that keeps a marker per unit can beat. For comparison, what the page did
before deltas: rebuilding a GeoJSON layer of every unit (``rebuild_ms``)
from a full load (``full_bytes``).

Run from the repository root: ``.venv/bin/python bench/map.py``. With
DATABASE_URL unset a private PostgreSQL runs under a temp folder; with it
set, a database of this run's own is created there and dropped after. The
last line is the figure the README quotes:
``map units=5000 update_bytes=N apply_ms=M`` (goal: apply_ms <= 100).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shutil
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, Response, sync_playwright
from scratch import scratch_database
from werkzeug.serving import make_server

from dashboard import ids
from dashboard.app import create_app
from dispatchmap.cli import load_city
from dispatchmap.services import free_port
from dispatchmap.settings import DashboardSettings, PresenceSettings
from store import city as city_store
from store.db import open_pool
from store.migrate import upgrade

GOAL_APPLY_MS = 100.0
KINDS = ("car", "car", "motorbike", "foot")
STATUSES = ("available",) * 7 + ("dispatched", "enroute", "onscene", "busy")
JITTER_DEG = 0.0003  # about 30 m north-south at 60°N
# Thresholds far enough apart that no fix ages across one while the run lasts
# (that would be a delta of its own). Every unit starts online: a stale or
# offline unit is also an alarm chip on the wall, and hundreds of chips push
# the map off the screen (a finding for the alarm strip, not measured here).
PRESENCE = PresenceSettings(stale_s=900, offline_s=3600)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
LOG = "window.dm.live.log"


def top_up(url: str, units: int, seed: int) -> None:
    """Roster units up to ``units``, every one with a latest fix near a road node."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    with psycopg.connect(url) as conn:
        nodes = list(city_store.node_positions(conn).values())
        row = conn.execute("SELECT count(*) FROM units").fetchone()
        have = int(row[0]) if row else 0
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO units (id, call_sign, kind, status, talkgroup, phone)"
                " VALUES (%s, %s, %s, %s, %s, %s)",
                [
                    (f"B{n:05d}", f"B-{n:04d}", KINDS[n % 4], rng.choice(STATUSES), "9900", "")
                    for n in range(have + 1, units + 1)
                ],
            )
            ids_ = [r[0] for r in cur.execute("SELECT id FROM units ORDER BY id")]
            cur.executemany(
                "INSERT INTO unit_latest (unit_id, device_id, fix_at, received_at, geom,"
                " speed_kmh, source) VALUES (%s, %s, %s, %s,"
                " ST_SetSRID(ST_MakePoint(%s, %s), 4326), %s, 'bench')",
                [
                    (uid, f"dev-{uid}", at, at, *_near(rng, nodes), rng.uniform(0, 50))
                    for uid in ids_
                    for at in [now - timedelta(seconds=rng.uniform(0, 30))]
                ],
            )


def _near(rng: random.Random, nodes: list[tuple[float, float]]) -> tuple[float, float]:
    lon, lat = rng.choice(nodes)
    return lon + rng.uniform(-JITTER_DEG, JITTER_DEG) * 2, lat + rng.uniform(
        -JITTER_DEG, JITTER_DEG
    )


def move(url: str, share: float, seed: int) -> int:
    """Move ``share`` of the units by up to ~30 m, stamped now, in one
    transaction; how many moved."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "WITH moved AS (UPDATE unit_latest SET"
            " geom = ST_Translate(geom, (random() - 0.5) * %(j)s * 2, (random() - 0.5) * %(j)s),"
            " fix_at = now(), received_at = now()"
            " WHERE unit_id IN (SELECT unit_id FROM unit_latest ORDER BY md5(unit_id || %(seed)s)"
            "                   LIMIT ceil(%(share)s * (SELECT count(*) FROM unit_latest)))"
            " RETURNING 1) SELECT count(*) FROM moved",
            {"j": JITTER_DEG, "share": share, "seed": str(seed)},
        ).fetchone()
    return int(row[0]) if row else 0


@contextmanager
def served(url: str, refresh_ms: int) -> Iterator[str]:
    """The dashboard on ``url``'s database, in demo mode, from a thread."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per request
    pool = open_pool(url, max_size=4)
    app = create_app(DashboardSettings(refresh_ms=refresh_ms, demo=True), PRESENCE, pool)
    port = free_port()
    server = make_server("127.0.0.1", port, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
        pool.close()


def delta_of(response: Response) -> dict[str, Any] | None:
    """The units delta a Dash update response carried, if any (an unchanged
    answer is a bodiless 204, whose body the browser does not keep)."""
    if response.status != 200:
        return None
    try:
        body = response.json().get("response", {})
    except (ValueError, AttributeError, PlaywrightError):
        return None
    return body.get(ids.UNITS_DELTA, {}).get("data")


def wait_cycle(page: Page, responses: list[Response], units: int, full: bool) -> dict[str, Any]:
    """The next applied delta of ``units`` units: its log entry (after its
    frame was drawn) and the bytes of the response that brought it."""
    entry = page.wait_for_function(
        f"""([n, full]) => {LOG}.find(e => e.units === n && e.full === full
                                     && e.paint_ms !== null && !e.taken)""",
        arg=[units, full],
        timeout=120000,
        polling=50,
    ).json_value()
    page.evaluate(f"() => {{ {LOG}.forEach(e => {{ e.taken = true; }}); }}")
    for r in reversed(responses):
        delta = delta_of(r)
        if delta and delta["full"] == full and len(delta["units"]["features"]) == units:
            return {
                **entry,
                "bytes": len(r.body()),
                "delta_bytes": len(json.dumps(delta, separators=(",", ":"))),
            }
    raise SystemExit("bench/map: the applied delta's response was not seen")


CEILING_JS = """(n) => {
  const map = window.dm.live.marker('%s', '%s')._map;
  const group = L.layerGroup().addTo(map);
  const c = map.getCenter();
  const dots = [];
  for (let i = 0; i < n; i++) {
    dots.push(L.circleMarker([c.lat + (i %% 97) * 1e-4, c.lng + (i %% 89) * 2e-4],
                             { radius: 5 }).addTo(group));
  }
  const started = performance.now();
  dots.forEach((d, i) => d.setLatLng([c.lat + (i %% 101) * 1e-4, c.lng + (i %% 83) * 2e-4]));
  const ms = performance.now() - started;
  map.removeLayer(group);
  return ms;
}"""

REBUILD_JS = """(data) => {
  const map = window.dm.live.marker('%s', '%s')._map;
  const started = performance.now();
  const layer = L.geoJSON(data, { pointToLayer: window.dm.map.unitMarker,
                                  onEachFeature: window.dm.map.unitTooltip }).addTo(map);
  const ms = performance.now() - started;
  map.removeLayer(layer);
  return ms;
}"""


def report(label: str, cycle: dict[str, Any]) -> None:
    print(
        f"{label} update_bytes={cycle['bytes']} delta_bytes={cycle['delta_bytes']}"
        f" apply_ms={cycle['apply_ms']:.1f} paint_ms={cycle['paint_ms']:.1f}"
        f" icons={cycle['icons']}",
        flush=True,
    )


def updates(page: Page, responses: list[Response], url: str, args: argparse.Namespace) -> list:
    """A share moves, then every unit ``args.cycles`` times; the all-units cycles."""
    cycles = []
    for n, share in enumerate([args.share] + [1.0] * args.cycles):
        moved = move(url, share, n)
        cycle = wait_cycle(page, responses, moved, False)
        report(f"update moved={moved}", cycle)
        if moved == args.units:
            cycles.append(cycle)
    return cycles


def zoomed_update(page: Page, responses: list[Response], url: str, units: int) -> None:
    """Every unit moves while the operator looks at a few streets: the units
    in view are icons, the rest dots."""
    page.evaluate(ZOOM_JS % (ids.UNITS, "B00100"))
    page.wait_for_function(f"() => {LOG}.some(e => e.icons)", timeout=30000)
    report(
        f"update zoomed=19 moved={move(url, 1.0, 99)}", wait_cycle(page, responses, units, False)
    )


ZOOM_JS = """() => { const map = window.dm.live.marker('%s', '%s')._map;
                     map.setView(map.getCenter(), 19, { animate: false }); }"""


def run(url: str, args: argparse.Namespace) -> list[str]:
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("bench/map: chromium not found (Debian package chromium)")
    with served(url, args.refresh_ms) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        responses: list[Response] = []
        page.on("response", lambda r: responses.append(r) if "_dash-update" in r.url else None)
        page.goto(f"{base}/wall")
        first = wait_cycle(page, responses, args.units, True)
        report(f"first load units={args.units}", first)
        if args.screenshot:
            page.screenshot(path=args.screenshot)
        report("idle", wait_cycle(page, responses, 0, False))
        cycles = updates(page, responses, url, args)
        marker = (ids.UNITS, "B00100")
        ceiling = page.evaluate(CEILING_JS % marker, args.units)
        rebuild = page.evaluate(REBUILD_JS % marker, _full_delta(responses)["units"])
        zoomed_update(page, responses, url, args.units)
        browser.close()
    apply_ms = statistics.median(c["apply_ms"] for c in cycles)
    update_bytes = int(statistics.median(c["bytes"] for c in cycles))
    return [
        f"ceiling bare_setlatlng_ms={ceiling:.1f} ratio={apply_ms / max(ceiling, 0.1):.1f}"
        f" rebuild_ms={rebuild:.1f} full_bytes={first['bytes']}"
        f" goal_apply_ms={GOAL_APPLY_MS:.0f} load_avg_1m={os.getloadavg()[0]:.1f}"
        f" cores={os.cpu_count()}",
        f"map units={args.units} update_bytes={update_bytes} apply_ms={apply_ms:.1f}",
    ]


def _full_delta(responses: list[Response]) -> dict[str, Any]:
    return next(d for r in responses if (d := delta_of(r)) is not None and d["full"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=5000)
    parser.add_argument("--share", type=float, default=0.1, help="first, a share moves")
    parser.add_argument("--cycles", type=int, default=3, help="then all move, this many times")
    parser.add_argument("--refresh-ms", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--screenshot", help="a PNG of the wall after the first load")
    args = parser.parse_args()
    with ExitStack() as stack:
        url = scratch_database(stack, "bench_map")
        with psycopg.connect(url) as conn:
            upgrade(conn)
        load_city(url, None, None, args.seed)
        top_up(url, args.units, args.seed)
        began = time.perf_counter()
        lines = run(url, args)
        print(f"browser part seconds={time.perf_counter() - began:.0f}")
    for line in lines:
        print(line, flush=True)


if __name__ == "__main__":
    main()
