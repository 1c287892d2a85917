"""Values a page never sends (forged stores, areas, speeds, offsets, ids,
filter texts) are answered with HTTP 400 and one audit row, by every guarded
callback and route, before anything is read (real database, Flask test
client; the served dashboard in test_a_forged_week_is_refused_by_the_served_dashboard)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dashboard import ids
from dispatchmap.settings import DashboardSettings
from geo.intake import NewIncident
from store import replay as history
from tests.dash_calls import call_body, callback_key
from tests.helpers import served_dashboard
from usecases import access
from usecases import incidents as inc

PASSWORD = "a long test password"
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
HOUR = {"start": T0.isoformat(), "end": (T0 + timedelta(hours=1)).isoformat()}
WEEK = {"start": T0.isoformat(), "end": (T0 + timedelta(days=7)).isoformat()}
STORE = {**HOUR, "incident_id": None, "area": None}


def post(client, body):
    return client.post("/_dash-update-component", json=body, headers={"Origin": "http://localhost"})


def bad_inputs(conn) -> list[tuple[str, dict[str, Any]]]:
    rows = conn.execute(
        "SELECT actor, detail FROM audit_log WHERE action = 'bad_input' AND NOT ok ORDER BY id"
    )
    return rows.fetchall()


@pytest.fixture
def admin(app, conn):
    access.add_user(conn, "ada", "admin", PASSWORD)
    conn.commit()
    client = app.server.test_client()
    assert client.post("/login", data={"name": "ada", "password": PASSWORD}).status_code == 303
    return client


@pytest.fixture
def reads(monkeypatch) -> list[tuple[datetime, datetime]]:
    """Every window whose tracks are read (the real read, recorded)."""
    seen: list[tuple[datetime, datetime]] = []
    real = history.track_window

    def recorded(conn, start, end, **kwargs):
        seen.append((start, end))
        return real(conn, start, end, **kwargs)

    monkeypatch.setattr(history, "track_window", recorded)
    return seen


class Audit:
    """The ``bad_input`` rows of the append-only audit log, read as they come."""

    def __init__(self, conn) -> None:
        self.conn, self.seen = conn, 0

    def refused_once(self, response, field: str) -> dict[str, Any]:
        """Assert a 400 and exactly one new audit row, by ada, naming ``field``; its detail."""
        assert response.status_code == 400, response.data[:300]
        rows = bad_inputs(self.conn)
        new, self.seen = rows[self.seen :], len(rows)
        assert len(new) == 1 and new[0][0] == "ada", new
        assert new[0][1]["field"] == field, new[0][1]
        return new[0][1]


@pytest.fixture
def audit(conn) -> Audit:
    return Audit(conn)


def load(app, store: Any, offset: Any = 0) -> dict[str, Any]:
    key = callback_key(app, ids.REPLAY_WINDOW, output=ids.REPLAY_MESSAGE)
    values = {ids.REPLAY_WINDOW: store, ids.REPLAY_SLIDER: offset}
    return call_body(app, key, values, [f"{ids.REPLAY_WINDOW}.data"])


def test_a_forged_week_long_window_is_refused_before_any_read(app, conn, admin, audit, reads):
    detail = audit.refused_once(post(admin, load(app, {**STORE, **WEEK})), "window")
    assert detail["problem"] == "end: a window is at most 12 h"
    assert detail["output"].startswith("..replay-slider.max")
    assert reads == []  # nothing loaded
    assert post(admin, load(app, STORE)).status_code == 200
    assert reads == [(T0, T0 + timedelta(hours=1))]


@pytest.mark.parametrize(
    ("forged", "field"),
    [
        ({**STORE, "start": "yesterday"}, "window"),
        ({**STORE, "start": "2026-03-02T10:00:00"}, "window"),  # no offset
        ({**STORE, "start": HOUR["end"], "end": HOUR["start"]}, "window"),
        ({**STORE, "area": [24.9, 60.1, 24.8, 60.2]}, "area"),  # west above east
        ({**STORE, "area": [24.9, 60.1, float("nan"), 60.2]}, "area"),
        ({**STORE, "area": [24.9, 60.1, 1e6, 60.2]}, "area"),
        ({**STORE, "area": [True, 60.1, 24.95, 60.2]}, "area"),
        ({**STORE, "area": "24.9,60.1,24.95,60.2"}, "area"),
        ({**STORE, "incident_id": "7"}, "incident_id"),
        ({**STORE, "incident_id": -1}, "incident_id"),
        ({**STORE, "incident_id": 424242}, "incident_id"),  # an integer, but no incident
        ({**STORE, "same_times": "yes"}, "same_times"),
        ({**STORE, "extra": 1}, "window"),
        ([HOUR["start"], HOUR["end"]], "window"),
    ],
)
def test_forged_window_stores_are_refused(app, conn, admin, audit, reads, forged, field):
    audit.refused_once(post(admin, load(app, forged)), field)
    assert reads == []


def test_the_moment_and_the_player_take_only_offsets_and_speeds_a_page_sends(
    app, conn, admin, audit
):
    moment = callback_key(app, ids.REPLAY_SLIDER, ids.REPLAY_TRAIL)
    values = {ids.REPLAY_WINDOW: STORE, ids.REPLAY_SLIDER: 60.0, ids.REPLAY_TRAIL: 5}
    fired = [f"{ids.REPLAY_SLIDER}.value"]
    assert post(admin, call_body(app, moment, values, fired)).status_code == 200
    for name, value, field in (
        (ids.REPLAY_SLIDER, -5, "slider.value"),
        (ids.REPLAY_SLIDER, 86400.0 * 7, "slider.value"),
        (ids.REPLAY_SLIDER, "60", "slider.value"),
        (ids.REPLAY_TRAIL, 10_000, "trail"),
        (ids.REPLAY_WINDOW, {**STORE, **WEEK}, "window"),
    ):
        audit.refused_once(
            post(admin, call_body(app, moment, {**values, name: value}, fired)), field
        )

    control = callback_key(
        app, ids.REPLAY_PLAYER, ids.REPLAY_PLAY, ids.REPLAY_BACK, ids.REPLAY_FORWARD,
        ids.REPLAY_EVENT,
    )  # fmt: skip
    body = call_body(app, control, {ids.REPLAY_SPEED: 60}, [f"{ids.REPLAY_PLAYER}.n_intervals"])
    body["inputs"][0]["value"] = 7  # the player's n_intervals
    # State: the slider's value and max (one id), the speed, the player's disabled.
    for n, value in ((0, 10.0), (1, 3600.0), (3, False)):
        body["state"][n]["value"] = value
    assert post(admin, body).status_code == 200
    for speed in (1000, 0, "10", 2.5, None):
        forged = json.loads(json.dumps(body))
        forged["state"][2]["value"] = speed
        audit.refused_once(post(admin, forged), "speed")
    jump = {"type": ids.REPLAY_EVENT, "event": 1, "at": "soon"}
    forged = json.loads(json.dumps(body))
    forged["inputs"][4] = [{"id": jump, "property": "n_clicks", "value": 1}]
    forged["changedPropIds"] = [
        json.dumps(jump, separators=(",", ":"), sort_keys=True) + ".n_clicks"
    ]
    audit.refused_once(post(admin, forged), "event.at")


def test_an_incident_id_is_an_integer_of_an_incident(app, conn, admin, audit):
    now = datetime.now(UTC)
    with conn.transaction():
        new = NewIncident("assault", 1, 24.9452, 60.1690, now, "", None)
        incident_id = inc.create_incident(conn, new, "desk:alice", "desk", now)
    choose = callback_key(app, ids.REPLAY_INCIDENT, ids.REPLAY_LOAD, ids.REPLAY_AREA)
    fired = [f"{ids.REPLAY_INCIDENT}.value"]
    chosen = post(admin, call_body(app, choose, {ids.REPLAY_INCIDENT: incident_id}, fired))
    assert chosen.status_code == 200
    for forged in ("1", 1.5, incident_id + 1000, 2**70, True):
        body = call_body(app, choose, {ids.REPLAY_INCIDENT: forged}, fired)
        audit.refused_once(post(admin, body), "incident_id")
    body = call_body(
        app, choose, {ids.REPLAY_START: "10:00" * 1000}, [f"{ids.REPLAY_LOAD}.n_clicks"]
    )
    audit.refused_once(post(admin, body), "start")
    assert admin.get("/replay/report.pdf?incident=424242").status_code == 404  # well formed
    for forged in ("x", "99999999999999999999", "+5", "", "1e3"):
        url = f"/replay/report.pdf?incident={forged}"
        audit.refused_once(admin.get(url), "incident")


def test_the_export_refuses_long_windows_and_odd_areas(app, conn, admin, audit, reads):
    url = "/replay/export.csv?start={start}&end={end}&area={area}"
    week = url.format(start="2026-03-02T10:00Z", end="2026-03-09T10:00Z", area="")
    assert "12 h" in audit.refused_once(admin.get(week), "window")["problem"]
    for area in ("nan,60.1,24.95,60.2", "24.9,60.1,24.95", "24.9,60.1,24.95,99"):
        bad = url.format(start="10:00", end="11:00", area=area)
        audit.refused_once(admin.get(bad), "area")
    audit.refused_once(admin.get("/replay/export.xlsx?start=10:00&end=11:00"), "format")
    assert reads == []


def test_the_drawn_area_is_a_rectangle_of_degrees(app, conn, admin, audit):
    area = callback_key(app, ids.REPLAY_DRAW, ids.REPLAY_AREA_CLEAR)
    fired = [f"{ids.REPLAY_DRAW}.geojson"]

    def drawn(ring: Any) -> dict[str, Any]:
        feature = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]}}
        return {"type": "FeatureCollection", "features": [feature]}

    box = [[24.93, 60.16], [24.95, 60.16], [24.95, 60.17], [24.93, 60.17], [24.93, 60.16]]
    good = call_body(app, area, {ids.REPLAY_DRAW: drawn(box)}, fired)
    assert post(admin, good).status_code == 200
    for forged in (drawn([[24.93, 600.0]] * 5), drawn([["a", "b"]] * 5), {"features": "x"}):
        audit.refused_once(
            post(admin, call_body(app, area, {ids.REPLAY_DRAW: forged}, fired)), "drawn"
        )


RECORD = {
    "device_id": "dev-1", "unit_id": None, "call_sign": None, "format": "native",
    "presence": "online", "fix_age_s": 3.0, "messages_n": 4, "rejected_n": 1,
    "rejected_by_reason": {"gps_jump": 1}, "last_message": "10:00:00",
    "last_fix": "10:00:00", "acc": "–",
}  # fmt: skip


def test_the_quality_table_and_drill_down_take_only_what_the_page_stores(app, conn, admin, audit):
    table = callback_key(
        app, ids.QUALITY_DATA, ids.QUALITY_SORT, ids.QUALITY_FORMATS, ids.QUALITY_PRESENCE,
        ids.QUALITY_PROBLEMS, ids.QUALITY_SEARCH,
    )  # fmt: skip
    fine = {ids.QUALITY_DATA: [RECORD], ids.QUALITY_SORT: "worst", ids.QUALITY_SEARCH: "dev"}
    assert post(admin, call_body(app, table, fine)).status_code == 200
    for name, value, field in (
        (ids.QUALITY_SORT, "__class__", "sort"),
        (ids.QUALITY_FORMATS, ["native", "native"], "formats"),
        (ids.QUALITY_PRESENCE, "online", "presence"),
        (ids.QUALITY_SEARCH, "x" * 10_000, "search"),
        (ids.QUALITY_DATA, [{**RECORD, "presence": "lost"}], "records.presence"),
        (ids.QUALITY_DATA, [{**RECORD, "messages_n": "4"}], "records.messages_n"),
        (ids.QUALITY_DATA, [{"device_id": "dev-1"}], "records"),
        (ids.QUALITY_DATA, {"rows": []}, "records"),
    ):
        audit.refused_once(post(admin, call_body(app, table, {**fine, name: value})), field)
    drill = callback_key(app, ids.URL, output=ids.QUALITY_DRILL_TITLE)
    for device in ("dev-1", "d" * 300):  # the ingest stores any id a topic carries
        hashed = {ids.URL: f"#{device}"}
        assert post(admin, call_body(app, drill, hashed, [f"{ids.URL}.hash"])).status_code == 200
    for forged, field in (
        ("#" + "d" * 70_000, "device_id"),
        ("#" + "d" * 200_000, "hash"),
        ("#dev%0A1", "device_id"),
        (7, "hash"),
    ):
        body = call_body(app, drill, {ids.URL: forged}, [f"{ids.URL}.hash"])
        audit.refused_once(post(admin, body), field)


def test_admin_filters_and_token_ids_are_checked(app, conn, admin, audit):
    refresh = callback_key(app, ids.ADMIN_CHANGED, ids.ADMIN_AUDIT_ACTOR, ids.ADMIN_AUDIT_ACTION)
    fired = [f"{ids.ADMIN_AUDIT_ACTOR}.value"]
    ok = call_body(app, refresh, {ids.ADMIN_AUDIT_ACTOR: "ada"}, fired)
    assert post(admin, ok).status_code == 200
    for value in ("a" * 5000, ["ada"]):
        body = call_body(app, refresh, {ids.ADMIN_AUDIT_ACTOR: value}, fired)
        audit.refused_once(post(admin, body), "actor")
    revoke = callback_key(app, ids.ADMIN_TOKEN_REVOKE)
    button = {"type": ids.ADMIN_TOKEN_REVOKE, "token": "1 OR 1=1"}
    body = call_body(app, revoke)
    body["inputs"] = [[{"id": button, "property": "n_clicks", "value": 1}]]
    body["changedPropIds"] = [
        json.dumps(button, separators=(",", ":"), sort_keys=True) + ".n_clicks"
    ]
    audit.refused_once(post(admin, body), "token")


def test_the_untied_layer_key_and_the_tick_are_checked(app, conn, admin, audit):
    for tick, key_id in ((ids.TICK, ids.WALL_UNTIED_KEY), (ids.DESK_TICK, ids.DESK_UNTIED_KEY)):
        refresh = callback_key(app, tick, output=key_id)
        fired = [f"{tick}.n_intervals"]
        assert post(admin, call_body(app, refresh, {tick: 3}, fired)).status_code == 200
        body = call_body(app, refresh, {tick: 3, key_id: "k" * 100_000}, fired)
        audit.refused_once(post(admin, body), "untied key")
        audit.refused_once(post(admin, call_body(app, refresh, {tick: "3"}, fired)), "n_intervals")


def test_a_forged_week_is_refused_by_the_served_dashboard(app, db_url, conn):
    """The real server (werkzeug, threads) answers the forged store with 400, not 500."""
    access.add_user(conn, "ada", "admin", PASSWORD)
    conn.commit()
    body = load(app, {**STORE, **WEEK})  # ``app`` only names the callback: the keys are the same
    with served_dashboard(db_url, DashboardSettings()) as base:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        form = f"name=ada&password={PASSWORD.replace(' ', '+')}".encode()
        opener.open(urllib.request.Request(f"{base}/login", data=form), timeout=10).close()
        request = urllib.request.Request(
            f"{base}/_dash-update-component",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with opener.open(request, timeout=10) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            with exc:
                status, text = exc.code, exc.read().decode()
    assert status == 400 and "a window is at most 12 h" in text
    assert [d["field"] for _, d in bad_inputs(conn)] == ["window"]


def test_the_shell_and_the_wall_tick_are_checked(app, conn, admin, audit):
    route = callback_key(app, ids.URL, output=ids.PAGE)
    fired = [f"{ids.URL}.pathname"]
    assert post(admin, call_body(app, route, {ids.URL: "/nowhere"}, fired)).status_code == 200
    long_path = call_body(app, route, {ids.URL: "/" + "a" * 5000}, fired)
    audit.refused_once(post(admin, long_path), "pathname")
    tile = callback_key(app, ids.TICK, output=ids.WALL_QUALITY)
    tick = [f"{ids.TICK}.n_intervals"]
    assert post(admin, call_body(app, tile, {ids.TICK: 10}, tick)).status_code == 200
    audit.refused_once(post(admin, call_body(app, tile, {ids.TICK: "10"}, tick)), "n_intervals")


def test_the_desk_filters_and_row_ids_are_checked(app, conn, admin, audit):
    refresh = callback_key(app, ids.DESK_TICK, ids.UNIT_SEARCH, ids.UNIT_KIND, ids.UNIT_STATUS)
    fired = [f"{ids.UNIT_SEARCH}.value"]
    ok = {ids.UNIT_SEARCH: "C-0", ids.UNIT_KIND: "car", ids.UNIT_STATUS: "available"}
    assert post(admin, call_body(app, refresh, ok, fired)).status_code == 200
    for field, forged in (
        ("unit search", {ids.UNIT_SEARCH: "x" * 5000}),
        ("unit kind", {ids.UNIT_KIND: "tank"}),
        ("unit status", {ids.UNIT_STATUS: ["available"]}),
        ("drawn key", {ids.DESK_QUEUE_KEY: "k" * 100_000}),
    ):
        audit.refused_once(post(admin, call_body(app, refresh, {**ok, **forged}, fired)), field)
    select = callback_key(app, ids.QUEUE_ROW)
    for forged in ("1 OR 1=1", 0):
        row = {"type": ids.QUEUE_ROW, "incident": forged}
        body = call_body(app, select)
        body["inputs"] = [[{"id": row, "property": "n_clicks", "value": 1}]]
        body["changedPropIds"] = [
            json.dumps(row, separators=(",", ":"), sort_keys=True) + ".n_clicks"
        ]
        audit.refused_once(post(admin, body), "incident")
