"""Benchmark: escape-route cameras (usecases.escape.escape_rows) on the
sample city (central Helsinki, 40 cameras), for 20 incidents placed near
cameras, in a throwaway database on DATABASE_URL's server (default the
local one). Prints the routers' one-off build times and the per-incident
time, and its ratio to the desk's refresh budget (DM_DASH_REFRESH_MS,
1,000 ms): the grid is drawn again only when the selection or order changes.

Run from the repository root: ``.venv/bin/python bench/escape.py``.
"""

import os
import random
import statistics
import time
import uuid
from datetime import UTC, datetime

import psycopg

from dispatchmap.cli import load_city
from geo.intake import NewIncident
from store.migrate import upgrade
from usecases.escape import escape_rows, load_foot_router
from usecases.incidents import create_incident, load_router

admin = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
name = f"f16bench_{uuid.uuid4().hex[:8]}"
with psycopg.connect(admin, autocommit=True) as c:
    c.execute(f"CREATE DATABASE {name}")
url = admin.rsplit("/", 1)[0] + f"/{name}"
try:
    with psycopg.connect(url) as conn:
        upgrade(conn)
    load_city(url, None, None, 1)
    with psycopg.connect(url) as conn:
        t0 = time.perf_counter()
        car = load_router(conn)
        t1 = time.perf_counter()
        foot = load_foot_router(conn)
        t2 = time.perf_counter()
        cams = conn.execute("SELECT ST_X(geom), ST_Y(geom) FROM cameras").fetchall()
        rng = random.Random(1)
        ids = []
        now = datetime.now(UTC)
        for lon, lat in cams[:20]:
            new = NewIncident(
                "assault",
                1,
                lon + rng.uniform(-5e-4, 5e-4),
                lat + rng.uniform(-3e-4, 3e-4),
                now,
                "bench",
                None,
            )
            ids.append(create_incident(conn, new, "110", "110", now))
        ms, found = [], []
        for i in ids:
            s = time.perf_counter()
            rows = escape_rows(conn, car, foot, i)
            ms.append((time.perf_counter() - s) * 1000)
            found.append(len(rows))
    print(f"car router {1000 * (t1 - t0):.0f} ms, foot router {1000 * (t2 - t1):.0f} ms (once)")
    print(f"ratio to the 1,000 ms refresh: {statistics.median(ms) / 1000:.3f}")
    print(
        f"escape_rows: median {statistics.median(ms):.1f} ms, max {max(ms):.1f} ms over "
        f"{len(ms)} incidents; cameras found median {statistics.median(found)}, max {max(found)}"
    )
finally:
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f"DROP DATABASE {name} WITH (FORCE)")
