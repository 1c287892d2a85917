"""Replay limited to an area, against the real database: a unit with a fix in
the box during the window is replayed with its whole track (so it can be
followed in and out), the others are not; the query reads the positions' GiST
index within the window's day partitions; incidents are those inside the box,
with their lifetimes and the events that move their status."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from geo.intake import NewIncident
from geo.replay import Fix, Track
from store import incidents as incident_store
from store import replay as history
from store import statements
from tests.db.test_replay_db import insert
from usecases import incidents as inc

MIDNIGHT = datetime(2026, 3, 2, tzinfo=UTC)
AREA = (24.930, 60.160, 24.940, 60.170)  # min_lon, min_lat, max_lon, max_lat
BOX = dict(zip(("min_lon", "min_lat", "max_lon", "max_lat"), AREA, strict=True))


def at(seconds: float) -> datetime:
    return MIDNIGHT + timedelta(seconds=seconds)


TRACKS = {
    # Inside all along.
    "U005": Track("U005", [Fix(at(s), 24.935 + s * 1e-6, 60.165) for s in range(0, 121, 10)]),
    # Outside all along.
    "U006": Track("U006", [Fix(at(s), 24.950, 60.165 + s * 1e-6) for s in range(0, 121, 10)]),
    # West to east across the box: inside from 100 s to 200 s only.
    "U007": Track("U007", [Fix(at(s), 24.920 + s * 1e-4, 60.165) for s in range(0, 301, 30)]),
    # Across the box between two fixes: no fix inside, so not replayed.
    "U008": Track("U008", [Fix(at(0), 24.925, 60.165), Fix(at(60), 24.945, 60.165)]),
    # Inside ten minutes before the window (yesterday's partition), outside in it.
    "U009": Track("U009", [Fix(at(-600), 24.935, 60.165), Fix(at(30), 24.95, 60.18)]),
    # On the box's east edge: edges count.
    "U010": Track("U010", [Fix(at(50), 24.940, 60.165)]),
}


@pytest.fixture
def crossing(conn: psycopg.Connection) -> psycopg.Connection:
    for unit_id, track in TRACKS.items():
        insert(conn, unit_id, list(track.fixes))
    conn.commit()
    return conn


def test_only_units_with_a_fix_in_the_area_are_replayed_whole(
    crossing: psycopg.Connection,
) -> None:
    window = history.track_window(crossing, at(0), at(300), bbox=AREA)
    assert set(window) == {"U005", "U007", "U010"}
    assert window["U007"].fixes == TRACKS["U007"].fixes  # in, through and out again
    assert window["U005"].fixes == TRACKS["U005"].fixes
    everyone = history.track_window(crossing, at(0), at(300))
    assert set(everyone) == set(TRACKS)
    assert everyone["U009"].fixes == TRACKS["U009"].fixes  # its fix before the window too


def test_the_area_and_the_time_both_decide(crossing: psycopg.Connection) -> None:
    assert history.area_unit_ids(crossing, at(0), at(90), AREA) == {"U005", "U010"}
    assert history.area_unit_ids(crossing, at(-900), at(-1), AREA) == {"U009"}
    assert history.area_unit_ids(crossing, at(210), at(300), AREA) == set()
    only = history.track_window(crossing, at(0), at(300), ["U005", "U006"], bbox=AREA)
    assert set(only) == {"U005"}
    assert history.track_window(crossing, at(210), at(300), bbox=AREA) == {}


def test_the_area_query_reads_the_gist_index_of_the_windows_partition(
    crossing: psycopg.Connection,
) -> None:
    crossing.execute("ANALYZE positions")
    crossing.execute("SET enable_seqscan = off")  # a few rows: make the planner show its hand
    params = {"t1": at(0), "t2": at(300), **BOX}
    rows = crossing.execute(
        "EXPLAIN " + statements.text("replay", "area_unit_ids"), params
    ).fetchall()
    plan = "\n".join(line for (line,) in rows)
    assert "positions_20260302_geom_idx" in plan, plan
    assert re.search(r"Index Cond: \(geom && '[0-9A-F]+'::geometry\)", plan), plan
    assert "positions_20260301" not in plan, plan  # the other day is pruned


def new_incident(conn: psycopg.Connection, lon: float, lat: float, seconds: float) -> int:
    new = NewIncident("assault", 1, lon, lat, at(seconds), "area test", None)
    incident_id = inc.create_incident(conn, new, "110", "110", at(seconds))
    assert incident_id is not None
    return incident_id


def test_window_incidents_inside_the_area_with_their_lifetimes(conn: psycopg.Connection) -> None:
    inside = new_incident(conn, 24.935, 60.165, 10)
    outside = new_incident(conn, 24.950, 60.165, 20)
    earlier = new_incident(conn, 24.936, 60.166, -7200)  # closed before the window
    incident_store.insert_event(
        conn, at=at(15), kind="suggestions_shown", actor="d", incident_id=inside
    )
    inc.close_incident(conn, inside, "desk:d1", at(200))
    inc.close_incident(conn, earlier, "desk:d1", at(-3600))
    inc.close_incident(conn, outside, "desk:d1", at(900))
    conn.commit()
    rows = history.window_incidents(conn, at(0), at(300), AREA)
    assert [(r["id"], r["created_at"], r["closed_at"]) for r in rows] == [(inside, at(10), at(200))]
    everywhere = history.window_incidents(conn, at(0), at(300))
    assert {r["id"]: r["closed_at"] for r in everywhere} == {inside: at(200), outside: at(900)}
    changes = history.incident_changes(conn, [inside, outside], at(300))
    assert [(c["incident_id"], c["kind"], c["at"]) for c in changes] == [
        (inside, "created", at(10)),
        (outside, "created", at(20)),
        (inside, "closed", at(200)),
    ]  # suggestions move nothing; the close after the window is not read
