"""Benchmark: seeking the replay of a whole station to random moments of a day.

Loads ``--hours`` (24) of ``--units`` (1,000) units reporting every
``--every-s`` (5) seconds into ``positions`` (about 17 million rows), straddling
a UTC midnight so that two day partitions are involved, then times seeking to
``--seeks`` (200) random moments: :func:`store.replay.replay_snapshot` (two index
probes per unit in SQL, then interpolation in Python) for the whole roster.

Tracks are plausible, made with numpy: each unit drives with a wandering
heading at its own cruising speed, parks now and then, stays inside an 8 x 6 km
box of central Helsinki, and reports at its own phase of the 5 s cycle. Rows
go in by binary COPY (fixed-width records built as one numpy array per chunk,
EWKB points included), one connection per partition, into the day partitions
made beforehand with ``ensure_position_partitions``, with every index of the
schema in place, as the live ingest writes them.

The ceiling is the live wall's read of the same station (one row per unit from
a table holding only the latest state): a seek cannot beat it.

It also times the replay page's trail tick (``trail ...`` lines): the last 5
minutes of every unit as GeoJSON, serialised, at ``--trail-ticks`` moments of a
30-minute window in the middle of the load, unthinned (tolerance 0) and thinned
as the page draws them (``dashboard.replay_views.TRAIL_TOLERANCE_M``), with the
one-off thinning when the window loads (``prepare_ms``).

Run from the repository root, with DATABASE_URL unset for a private server
under a temp folder: ``.venv/bin/python bench/replay.py`` (``--units 100
--hours 1`` for a quick run). The last line is the figure the README quotes.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta

import numpy as np
import psycopg
from scratch import scratch_database

from dashboard import replay_views
from dispatchmap.settings import PresenceSettings
from geo import queries, retention
from geo.earth import LocalProjection
from store import replay as history
from store import statements
from store.migrate import upgrade

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)  # noon: the day straddles a midnight
PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
LON0, LAT0, BOX_EAST_M, BOX_NORTH_M = 24.90, 60.15, 8000.0, 6000.0
COPY = (
    "COPY positions (device_id, unit_id, fix_at, received_at, geom, speed_kmh, heading_deg,"
    " acc_m, alt_m, source) FROM STDIN (FORMAT BINARY)"
)
SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
# One COPY row: each field is an int32 length then its bytes; -1 is NULL. The
# geometry is EWKB (little-endian, point with SRID), what geometry_recv reads.
ROW = np.dtype(
    [
        ("ncols", ">i2"),
        ("l_device", ">i4"),
        ("device", "S8"),
        ("l_unit", ">i4"),
        ("unit", "S5"),
        ("l_fix", ">i4"),
        ("fix", ">i8"),
        ("l_recv", ">i4"),
        ("recv", ">i8"),
        ("l_geom", ">i4"),
        ("wkb_order", "u1"),
        ("wkb_type", "<u4"),
        ("srid", "<u4"),
        ("x", "<f8"),
        ("y", "<f8"),
        ("l_speed", ">i4"),
        ("speed", ">f4"),
        ("l_heading", ">i4"),
        ("heading", ">f4"),
        ("l_acc", ">i4"),
        ("l_alt", ">i4"),
        ("l_source", ">i4"),
        ("source", "S6"),
    ]
)


class Fleet:
    """Every unit's reports as (steps, units) arrays: lon/lat in degrees, fix
    times in microseconds since 2000-01-01 (PostgreSQL's epoch), km/h, degrees."""

    def __init__(self, units: int, steps: int, every_s: float, seed: int) -> None:
        rng = np.random.default_rng(seed)
        dt = every_s
        heading = rng.uniform(0, 360, units) + np.cumsum(rng.normal(0, 6, (steps, units)), 0)
        cruise = rng.uniform(6, 14, units)  # m/s
        parked = (np.cumsum(rng.random((steps, units)) < dt / 600, 0) % 2).astype(bool)
        speed = np.where(parked, 0.0, cruise * rng.uniform(0.7, 1.2, (steps, units)))
        rad = np.radians(heading)
        east = rng.uniform(0, BOX_EAST_M, units) + np.cumsum(speed * dt * np.sin(rad), 0)
        north = rng.uniform(0, BOX_NORTH_M, units) + np.cumsum(speed * dt * np.cos(rad), 0)
        proj = LocalProjection(LON0, LAT0)
        self.lon, self.lat = proj.lonlat(_fold(east, BOX_EAST_M), _fold(north, BOX_NORTH_M))
        phase_us = rng.integers(0, int(dt * 1e6), units)
        start_us = int((START - PG_EPOCH).total_seconds() * 1e6)
        self.fix_us = start_us + np.arange(steps)[:, None] * int(dt * 1e6) + phase_us
        self.speed_kmh = (speed * 3.6).astype(np.float32)
        self.heading_deg = (heading % 360).astype(np.float32)
        self.units = [f"U{i:04d}" for i in range(1, units + 1)]

    def rows(self, first: int, last: int) -> bytes:
        """Binary COPY rows of steps ``first`` to ``last`` (exclusive), time-major."""
        n = (last - first) * len(self.units)
        rec = np.zeros(n, ROW)
        for name, length in (("l_device", 8), ("l_unit", 5), ("l_fix", 8), ("l_recv", 8)):
            rec[name] = length
        rec["ncols"], rec["l_geom"], rec["wkb_order"] = 10, 25, 1
        rec["wkb_type"], rec["srid"] = 0x20000001, 4326
        rec["l_speed"], rec["l_heading"], rec["l_acc"], rec["l_alt"] = 4, 4, -1, -1
        rec["l_source"], rec["source"] = 6, b"native"
        rec["unit"] = np.tile(np.array(self.units, "S5"), last - first)
        rec["device"] = np.tile(np.array([f"trk-{u[1:]}" for u in self.units], "S8"), last - first)
        rec["fix"] = self.fix_us[first:last].ravel()
        rec["recv"] = rec["fix"] + 300_000
        rec["x"] = self.lon[first:last].ravel()
        rec["y"] = self.lat[first:last].ravel()
        rec["speed"] = self.speed_kmh[first:last].ravel()
        rec["heading"] = self.heading_deg[first:last].ravel()
        return rec.tobytes()


def _fold(x: np.ndarray, size: float) -> np.ndarray:
    """Reflect metres into [0, size]: units turn back at the edge of the box."""
    return size - np.abs(np.mod(x, 2 * size) - size)


def load(url: str, fleet: Fleet, steps: int, jobs: int, chunk_steps: int) -> int:
    """COPY every row, time-major, from ``jobs`` connections each taking a
    contiguous share of the day (from noon, two shares are the two partitions)."""
    cuts = [steps * i // jobs for i in range(jobs + 1)]
    spans = [span for span in itertools.pairwise(cuts) if span[0] < span[1]]
    errors: list[BaseException] = []

    def copy_span(first: int, last: int) -> None:
        try:
            with psycopg.connect(url) as conn:
                for lo in range(first, last, chunk_steps):
                    with conn.cursor().copy(COPY) as copy:
                        copy.write(SIGNATURE + fleet.rows(lo, min(lo + chunk_steps, last)))
                    conn.commit()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=copy_span, args=span) for span in spans]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return steps * len(fleet.units)


def prepare(url: str, fleet: Fleet, hours: float) -> None:
    """Schema, the roster of units, and the day partitions the load needs."""
    with psycopg.connect(url) as conn:
        upgrade(conn)
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO units (id, call_sign, kind) VALUES (%s, %s, 'car')",
                [(u, f"C-{u[1:]}") for u in fleet.units],
            )
        last = START + timedelta(hours=hours)
        conn.execute("SELECT ensure_position_partitions(%s, %s)", (START.date(), last.date()))
        conn.commit()


def seek_times(url: str, moments: list[datetime], stale_s: float, units: int) -> list[float]:
    """Milliseconds of each seek; every seek must place the whole station."""
    times = []
    with psycopg.connect(url) as conn:
        for at in moments:
            began = time.perf_counter()
            snap = history.replay_snapshot(conn, at, stale_s)
            times.append((time.perf_counter() - began) * 1000)
            if len(snap) != units:
                raise AssertionError(f"seek to {at} placed {len(snap)} of {units} units")
            conn.rollback()
    return times


def live_read_ms(url: str, at: datetime, stale_s: float, repeats: int) -> float:
    """Median ms of the live wall's read (``unit_positions`` over
    ``unit_latest``) of the station as it was at ``at``: the seek's ceiling."""
    with psycopg.connect(url) as conn:
        snap = history.replay_snapshot(conn, at, stale_s)
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO unit_latest (unit_id, device_id, fix_at, received_at, geom,"
                " speed_kmh, heading_deg, source) VALUES (%s, %s, %s, %s,"
                " ST_SetSRID(ST_MakePoint(%s, %s), 4326), %s, %s, 'native')",
                [
                    (u, f"trk-{u[1:]}", p.fix_at, p.fix_at, p.lon, p.lat, p.speed_kmh, 0.0)
                    for u, p in snap.items()
                ],
            )
        conn.execute("ANALYZE unit_latest")
        conn.commit()
        spent = []
        for _ in range(repeats):
            began = time.perf_counter()
            queries.unit_positions(conn, at)
            spent.append((time.perf_counter() - began) * 1000)
        return statistics.median(spent)


def trail_ticks(
    url: str, start: datetime, window_min: float, trail_min: float, stale_s: float, ticks: int
) -> Iterator[str]:
    """Time the replay page's trail tick over a ``window_min`` window from
    ``start``: the trails of the last ``trail_min`` minutes of every unit as
    GeoJSON, serialised as the page sends it, at ``ticks`` random moments;
    unthinned (tolerance 0: only exactly straight fixes go) and thinned as the
    page does. ``prepare_ms`` is the one-off cut-and-thin when a window loads."""
    with psycopg.connect(url) as conn:
        tracks = history.track_window(conn, start, start + timedelta(minutes=window_min))
    for tolerance_m in (0.0, replay_views.TRAIL_TOLERANCE_M):
        began = time.perf_counter()
        trails = replay_views.prepare_trails(tracks, stale_s, tolerance_m)
        prepare_ms = (time.perf_counter() - began) * 1000
        rng = random.Random(ticks)
        times, points, sizes = [], [], []
        for _ in range(ticks):
            at = start + timedelta(minutes=rng.uniform(trail_min, window_min))
            began = time.perf_counter()
            drawn = replay_views.trails_geojson(trails, at, trail_min)
            body = json.dumps(drawn)
            times.append((time.perf_counter() - began) * 1000)
            sizes.append(len(body))
            points.append(sum(len(f["geometry"]["coordinates"]) for f in drawn["features"]))
        yield (
            f"trail units={len(tracks)} window_min={window_min:g} trail_min={trail_min:g}"
            f" tolerance_m={tolerance_m:g} prepare_ms={prepare_ms:.0f} ticks={ticks}"
            f" points={statistics.mean(points):.0f} bytes={statistics.mean(sizes):.0f}"
            f" trail_p50_ms={percentile(times, 50):.1f} trail_p95_ms={percentile(times, 95):.1f}"
        )


def explain(url: str, at: datetime, stale_s: float) -> Iterator[str]:
    """The plan of one seek, with timings and buffers."""
    params = {"at": at, "stale_s": stale_s, "lookback_s": retention.LOOKBACK_S, "unit_ids": None}
    with psycopg.connect(url) as conn:
        query = "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + statements.text(
            "replay", "replay_snapshot"
        )
        for (line,) in conn.execute(query, params):
            yield line


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def run(url: str, args: argparse.Namespace) -> list[str]:
    steps = int(args.hours * 3600 / args.every_s)
    began = time.perf_counter()
    fleet = Fleet(args.units, steps, args.every_s, args.seed)
    made_s = time.perf_counter() - began
    prepare(url, fleet, args.hours)
    print(f"tracks generated in {made_s:.1f} s; loading {steps * args.units:,} rows", flush=True)
    began = time.perf_counter()
    rows = load(url, fleet, steps, args.jobs, args.chunk_steps)
    load_s = time.perf_counter() - began
    print(f"load rows={rows} seconds={load_s:.1f} rows_per_s={rows / load_s:,.0f}", flush=True)
    began = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE units, positions")
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        print(f"analyze seconds={time.perf_counter() - began:.1f} database={size.fetchone()}")
    rng = random.Random(args.seed)
    span_s = args.hours * 3600 - args.every_s
    moments = [
        START + timedelta(seconds=rng.uniform(args.every_s, span_s)) for _ in range(3 + args.seeks)
    ]
    warm = seek_times(url, moments[:3], args.stale_s, args.units)
    print("first seeks (cold) ms=" + ",".join(f"{t:.1f}" for t in warm))
    times = seek_times(url, moments[3:], args.stale_s, args.units)
    if args.explain:
        for line in explain(url, moments[-1], args.stale_s):
            print("  " + line)
    load_avg = os.getloadavg()[0]
    began = time.perf_counter()
    with psycopg.connect(url) as conn:
        window = history.track_window(conn, moments[0], moments[0] + timedelta(minutes=10))
    print(
        f"window minutes=10 units={len(window)} fixes={sum(map(len, window.values()))}"
        f" ms={(time.perf_counter() - began) * 1000:.0f}"
    )
    middle = START + timedelta(hours=args.hours / 2)
    trail_from = max(START, middle - timedelta(minutes=15))
    for line in trail_ticks(url, trail_from, 30.0, 5.0, args.stale_s, args.trail_ticks):
        print(line, flush=True)
    p50, p95 = percentile(times, 50), percentile(times, 95)
    live = live_read_ms(url, moments[-1], args.stale_s, 20)
    return [
        f"seek units={args.units} seeks={len(times)} min_ms={min(times):.1f}"
        f" max_ms={max(times):.1f} live_wall_read_ms={live:.1f} ratio_to_live={p50 / live:.1f}"
        f" load_avg_1m={load_avg:.1f} cores={os.cpu_count()}",
        f"replay rows={rows} seek_p50_ms={p50:.1f} seek_p95_ms={p95:.1f}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--every-s", type=float, default=5.0)
    parser.add_argument("--seeks", type=int, default=200)
    parser.add_argument("--stale-s", type=float, default=PresenceSettings().stale_s)
    parser.add_argument("--jobs", type=int, default=2, help="loading connections")
    parser.add_argument("--chunk-steps", type=int, default=100, help="report cycles per COPY")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--trail-ticks", type=int, default=50, help="trail ticks timed")
    parser.add_argument("--explain", action="store_true", help="print the plan of one seek")
    args = parser.parse_args()
    with ExitStack() as stack:
        url = scratch_database(stack, "bench_replay")
        lines = run(url, args)
    for line in lines:
        print(line, flush=True)


if __name__ == "__main__":
    main()
