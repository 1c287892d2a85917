"""`dispatchmap replay-export` on a real database with a hand-made incident:
C-01 is suggested first, sent, drives to the scene and clears; C-02 was
suggested second and stays put; C-10 patrols far away. GeoJSON and CSV hold
the right tracks and events (the same as the replay page's loader gives), the
PDF is one text-searchable page with the incident, the call sign and the
intervals, and bad arguments are refused with exit code 2."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from dashboard.replay_views import export_csv, export_geojson
from geo.intake import NewIncident
from geo.replay import Fix
from store import incidents as incident_store
from tests.pdftext import pdf_text
from usecases import incidents as inc
from usecases.replay import load_window

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # 12:00 in Helsinki
SCENE = (24.9452, 60.1690)
AREA = "24.930,60.160,24.960,60.175"  # around the scene; C-10 is never inside


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def insert_fixes(conn: psycopg.Connection, unit_id: str, fixes: list[Fix]) -> None:
    days = [f.fix_at.date() for f in fixes]
    conn.execute("SELECT ensure_position_partitions(%s, %s)", (min(days), max(days)))
    conn.cursor().executemany(
        "INSERT INTO positions (device_id, unit_id, fix_at, received_at, geom, speed_kmh,"
        " heading_deg, source) VALUES (%s, %s, %s, %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326),"
        " %s, %s, 'native')",
        [(f"dev-{unit_id}", unit_id, f.fix_at, f.fix_at, f.lon, f.lat, 30.0, None) for f in fixes],
    )


@dataclass(frozen=True)
class Scenario:
    incident_id: int
    fixes: dict[str, int]  # unit id -> fixes stored


def make_incident(conn: psycopg.Connection) -> Scenario:
    """The incident, its log (suggested, sent, ack, en route, on scene, an
    alarm, cleared, closed) and the tracks; committed."""
    start = (24.9380, 60.1650)  # C-01 starts ~600 m south-west and drives in
    c01 = [
        Fix(
            at(s),
            start[0] + (SCENE[0] - start[0]) * k / 12,
            start[1] + (SCENE[1] - start[1]) * k / 12,
        )
        for k, s in enumerate(range(30, 151, 10))
    ] + [Fix(at(s), *SCENE) for s in range(160, 401, 30)]
    c02 = [Fix(at(s), 24.9500, 60.1720) for s in range(-60, 500, 60)]
    c10 = [Fix(at(s), 24.9100 + s * 1e-6, 60.1600) for s in range(-60, 500, 30)]
    with conn.transaction():
        for unit_id, fixes in (("U001", c01), ("U002", c02), ("U010", c10)):
            insert_fixes(conn, unit_id, fixes)
        incident_id = inc.create_incident(
            conn,
            NewIncident("assault", 1, *SCENE, T0, "two men fighting", None),
            "desk:alice",
            "desk",
            T0,
        )
        assert incident_id is not None
        ranked = [
            {"unit_id": "U001", "call_sign": "C-01", "eta_s": 95.0},
            {"unit_id": "U002", "call_sign": "C-02", "eta_s": 140.0},
        ]
        incident_store.insert_event(
            conn,
            at=at(5),
            kind="suggestions_shown",
            actor="desk:alice",
            incident_id=incident_id,
            data={"ranked": ranked, "excluded": [], "shortfall": None},
        )
        inc.dispatch_units(
            conn, incident_id, [inc.Pick("U001", 95.0, 600.0, 1)], "desk:alice", at(10)
        )
        for action, s in (("ack", 18), ("enroute", 30), ("onscene", 150)):
            inc.apply_action(conn, "U001", action, "unit:U001", at(s))
        incident_store.insert_event(
            conn,
            at=at(140),
            kind="alarm_raised",
            actor="system",
            incident_id=incident_id,
            data={"alarm": "not_onscene", "severity": 2, "detail": ""},
        )
        inc.apply_action(conn, "U001", "clear", "unit:U001", at(400))
        inc.close_incident(conn, incident_id, "desk:bob", at(500))
    return Scenario(incident_id, {"U001": len(c01), "U002": len(c02), "U010": len(c10)})


def run(db_url: str | None, *words: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    if db_url:
        env["DATABASE_URL"] = db_url
    return subprocess.run(
        [sys.executable, "-m", "dispatchmap.cli", "replay-export", *words],
        env={**env, "DM_LOG_LEVEL": "WARNING"},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def scenario(conn: psycopg.Connection) -> Scenario:
    return make_incident(conn)


def test_geojson_of_an_incident_is_what_the_page_exports(db_url, conn, scenario, tmp_path):
    out = tmp_path / "window.geojson"
    done = run(db_url, "--incident", str(scenario.incident_id), "--out", str(out))
    assert done.returncode == 0, done.stderr
    got = json.loads(out.read_text())
    tracks = {
        f["properties"]["unit_id"]: f
        for f in got["features"]
        if f["properties"]["record"] == "track"
    }
    assert set(tracks) == {"U001", "U002", "U010"}
    assert tracks["U001"]["properties"]["call_sign"] == "C-01"
    assert len(tracks["U001"]["geometry"]["coordinates"]) == scenario.fixes["U001"]
    kinds = [
        f["properties"]["kind"] for f in got["features"] if f["properties"]["record"] == "event"
    ]
    assert kinds[0] == "created" and kinds[-1] == "closed" and "onscene" in kinds
    t1, t2 = at(-120), at(620)  # the page's window of the incident: 2 min either side
    page = load_window(conn, t1, t2, None, stale_s=300.0)  # the page's loader
    one_read = export_geojson(page.tracks, page.events, page.call_signs())
    assert got == json.loads(json.dumps(one_read))  # chunks streamed = the page's single read
    assert "3 tracks" in done.stderr and "wrote" in done.stderr


def test_csv_of_times_and_area_keeps_what_was_inside(db_url, scenario):
    words = ["--start", "2026-03-02T12:00", "--end", "2026-03-02T10:10:00Z", "--area", AREA]
    done = run(db_url, *words, "--format", "csv")  # 12:00 Helsinki is 10:00 UTC
    assert done.returncode == 0, done.stderr
    rows = done.stdout.splitlines()
    assert rows[0].startswith("record,at,unit_id,call_sign,lon,lat")
    fixes = [r.split(",") for r in rows[1:] if r.startswith("fix,")]
    assert {r[2] for r in fixes} == {"U001", "U002"}  # C-10 was never inside the area
    c01 = [r for r in fixes if r[2] == "U001"]
    assert len(c01) == scenario.fixes["U001"]  # all before 10:10, first at 10:00:30
    assert c01[0][1] == "2026-03-02T10:00:30+00:00" and c01[0][3] == "C-01"
    events = [r["kind"] for r in csv.DictReader(io.StringIO(done.stdout)) if r["record"] == "event"]
    assert events[:3] == ["created", "suggestions_shown", "dispatched"] and "closed" in events


def test_pdf_report_is_one_searchable_page(db_url, scenario, tmp_path):
    out = tmp_path / "report.pdf"
    done = run(db_url, "--incident", str(scenario.incident_id), "--out", str(out), "--progress")
    assert done.returncode == 0, done.stderr
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF-") and len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)) == 1
    assert b"/MediaBox [ 0 0 595.2756 841.8898 ]" in pdf  # A4
    text = pdf_text(pdf)
    assert f"Incident #{scenario.incident_id} · Assault · P1" in text
    assert "C-01" in text and "C-02" in text and "not sent" in text
    for interval, actual in (
        ("queue", "0:10"),
        ("acknowledgement", "0:08"),
        ("turnout", "0:20"),
        ("travel", "2:00"),
        ("response", "2:30"),
    ):
        row = text.index(interval)
        assert actual in text[row : row + 40], interval
    assert "Created 2026-03-02 12:00:00 Europe/Helsinki (UTC+02:00)" in text
    assert "desk:bob" in text and "alarm: not on scene" in text
    with psycopg.connect(db_url) as conn:  # the last event row covers the incident's
        last = "SELECT max(chain_seq) FROM events WHERE incident_id = %s"
        (mine,) = conn.execute(last, (scenario.incident_id,)).fetchone() or (None,)
        head, digest = conn.execute(
            "SELECT chain_seq, chain_hash FROM events ORDER BY chain_seq DESC LIMIT 1"
        ).fetchone() or (None, b"")
    assert (
        mine is not None
        and (
            f"Event log chain head: seq {head} · sha256 {bytes(digest).hex()[:12]} · "
            f"covers this incident's events to seq {mine}"
        )
        in text
    )


def test_progress_lines_with_progress(db_url, scenario):
    done = run(db_url, "--incident", str(scenario.incident_id), "--format", "csv", "--progress")
    assert done.returncode == 0, done.stderr
    lines = [x for x in done.stderr.splitlines() if " units, " in x]
    assert re.match(r"replay-export: 2/40 units, [\d,]+ fixes, ETA \?$", lines[0]), lines
    assert re.match(r"replay-export: 40/40 units, 51 fixes, ETA 00:00$", lines[-1]), lines
    assert "\r" not in done.stderr  # a log gets lines, not redraws
    quiet = run(db_url, "--incident", str(scenario.incident_id), "--format", "csv")
    assert "units," not in quiet.stderr  # not a terminal and no --progress: no progress


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["--area", "24.9,60.1,25.0"], "use four numbers"),
        (["--area", "25.0,60.1,24.9,60.2"], "min_lon must be below max_lon"),
        (["--area", "24.9,91,25.0,92"], "latitudes are -90..90"),
        (["--end", "2026-03-02T11:00"], "must be after --start"),
        (["--end", "2026-03-04T12:00"], "at most 24 h"),
        (["--end", "noon"], "use ISO 8601"),
        (["--end", "2026-03-02T13:00", "--format", "pdf", "--out", "x.pdf"], "give --incident"),
    ],
)
def test_bad_arguments_are_refused_with_exit_2(words, message):
    done = run(None, "--start", "2026-03-02T12:00", *words)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr


def test_an_unknown_incident_says_so(db_url, tmp_path: Path):
    done = run(db_url, "--incident", "999999", "--out", str(tmp_path / "x.geojson"))
    assert done.returncode == 1 and "incident 999999 has no events" in done.stderr
    assert not list(tmp_path.iterdir())  # no half-written file left


def test_the_report_route_serves_the_pdf_to_a_reviewer(db_url, conn, scenario):

    from dashboard.app import create_app
    from dispatchmap.settings import DashboardSettings, PresenceSettings
    from store.db import open_pool
    from usecases import access

    with conn.transaction():
        access.add_user(conn, "rita", "reviewer", "a long test password")
    cfg, presence = DashboardSettings(), PresenceSettings()
    pool = open_pool(db_url, max_size=2)
    try:
        app = create_app(cfg, presence, pool)
        client = app.server.test_client()
        url = f"/replay/report.pdf?incident={scenario.incident_id}"
        assert client.get(url).status_code == 403  # no session, no report
        login = {"name": "rita", "password": "a long test password", "next": "/replay"}
        assert client.post("/login", data=login).status_code == 303
        response = client.get(url)
        unknown = client.get("/replay/report.pdf?incident=999999").status_code
        bad = client.get("/replay/report.pdf?incident=x").status_code
    finally:
        pool.close()
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert (
        f'filename="incident-{scenario.incident_id}-report.pdf"'
        in (response.headers["Content-Disposition"])
    )
    assert "C-01" in pdf_text(response.data) and (unknown, bad) == (404, 400)


def test_csv_of_an_area_is_what_the_page_exports(db_url, conn, scenario):
    words = ["--start", "2026-03-02T10:00:00Z", "--end", "2026-03-02T10:10:00Z", "--area", AREA]
    done = run(db_url, *words, "--format", "csv")
    assert done.returncode == 0, done.stderr
    area = (24.930, 60.160, 24.960, 60.175)  # AREA
    page = load_window(conn, at(0), at(600), area, stale_s=300.0)  # the page's loader
    assert set(page.tracks) == {"U001", "U002"}
    exported = export_csv(page.tracks, page.events, page.call_signs())
    assert len(page.events) > 3
    assert list(csv.reader(io.StringIO(done.stdout))) == list(csv.reader(io.StringIO(exported)))


def test_gpkg_of_an_incident_reads_back_with_geopandas(db_url, conn, scenario, tmp_path):
    import geopandas as gpd
    import pyogrio

    out = tmp_path / "window.gpkg"
    done = run(db_url, "--incident", str(scenario.incident_id), "--out", str(out))
    assert done.returncode == 0, done.stderr
    layers = {name for name, _ in pyogrio.list_layers(out)}
    assert layers == {"tracks", "positions", "incidents", "events"}
    tracks = gpd.read_file(out, layer="tracks").set_index("unit_id")
    assert tracks.crs.to_epsg() == 4326
    assert set(tracks.index) == {"U001", "U002", "U010"}
    assert tracks.loc["U001", "call_sign"] == "C-01"
    assert len(tracks.loc["U001", "geometry"].coords) == tracks.loc["U001", "fixes"]
    positions = gpd.read_file(out, layer="positions")
    assert positions.groupby("unit_id").size().to_dict() == {
        u: int(tracks.loc[u, "fixes"]) for u in tracks.index
    }
    page = load_window(conn, at(-120), at(620), None, stale_s=300.0)
    first = page.tracks["U001"].fixes[0]
    row = positions[positions.unit_id == "U001"].iloc[0]
    assert (row.geometry.x, row.geometry.y) == pytest.approx((first.lon, first.lat), abs=1e-12)
    (incident,) = gpd.read_file(out, layer="incidents").itertuples()
    assert (incident.geometry.x, incident.geometry.y) == pytest.approx(SCENE, abs=1e-9)
    kinds = list(gpd.read_file(out, layer="events")["kind"])
    assert kinds[0] == "created" and kinds[-1] == "closed" and "onscene" in kinds
    assert not (tmp_path / "window.gpkg.part").exists()


def test_gpkg_needs_a_file(db_url):
    done = run(db_url, "--incident", "1", "--format", "gpkg")
    assert done.returncode == 2 and "GeoPackage needs --out" in done.stderr
