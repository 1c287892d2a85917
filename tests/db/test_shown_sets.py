"""The browser is never the source of truth: the desk's dispatch names a
suggestion set the server stored, and rank, ETA and the logged suggestions
come from that copy. Forged, foreign, stale and off-list dispatches are
posted to the real server (Flask test client, real database, signed-in
sessions) the way a hand-made request would."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from feeds.pipeline import Limits, Message, Pipeline
from feeds.topics import Topics
from feeds.writer import Writer, ingest_batch
from geo.intake import NewIncident
from tests.dash_calls import call_body, callback_key
from usecases import access
from usecases import incidents as inc

PASSWORD = "a long test password"
SCENE = (24.9452, 60.1690)
ORIGIN = {"Origin": "http://localhost"}


def post(client, body):
    return client.post("/_dash-update-component", json=body, headers=ORIGIN)


def signed_in(app, conn, name, role):
    access.add_user(conn, name, role, PASSWORD)
    conn.commit()
    client = app.server.test_client()
    assert client.post("/login", data={"name": name, "password": PASSWORD}).status_code == 303
    return client


@pytest.fixture
def incident_id(conn):
    """An assault at the scene with U001 ~120 m away and U002 ~600 m away."""
    now = datetime.now(UTC)
    for device, lon, lat in (("trk-c01", 24.9460, 60.1700), ("trk-c02", 24.9380, 60.1650)):
        body = json.dumps({"lat": lat, "lon": lon, "ts": now.isoformat()}).encode()
        with conn.transaction():
            message = Message(f"dm/gps/{device}", body, now)
            ingest_batch(conn, Pipeline(Topics(), Limits()), Writer(), [message])
    with conn.transaction():
        new = NewIncident("assault", 1, *SCENE, now, "", None)
        found = inc.create_incident(conn, new, "desk:alice", "desk", now)
    assert found is not None
    return found


def show(app, client, incident, before=None):
    """The desk's incident panel for ``incident``: (status, response by id)."""
    key = callback_key(app, "desk-selected", "desk-tick")
    values = {"desk-selected": incident, "desk-tick": 1, "desk-shown": before}
    answer = post(client, call_body(app, key, values, ["desk-tick.n_intervals"]))
    return answer.status_code, (answer.get_json() or {}).get("response", {})


def shown_store(app, client, incident):
    status, response = show(app, client, incident)
    assert status == 200
    return response["desk-shown"]["data"]


def click(app, client, store, unit):
    """Press the Dispatch button of ``unit`` with ``store`` as the page's store."""
    body = call_body(app, callback_key(app, "dispatch-button"), {"desk-shown": store})
    button = {"id": {"type": "dispatch-button", "unit": unit}, "property": "n_clicks", "value": 1}
    fired = json.dumps(button["id"], separators=(",", ":")) + ".n_clicks"
    answer = post(client, {**body, "inputs": [[button]], "changedPropIds": [fired]})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()["response"]["desk-message"]["children"]


def override(app, client, store, unit):
    values = {"desk-override": 1, "desk-override-unit": unit, "desk-shown": store}
    body = call_body(app, callback_key(app, "desk-override"), values, ["desk-override.n_clicks"])
    answer = post(client, body)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()["response"]["desk-message"]["children"]


def orders(conn):
    return conn.execute(
        "SELECT unit_id, suggested_rank, eta_s FROM orders ORDER BY sent_at"
    ).fetchall()


def refusals(conn):
    rows = conn.execute("SELECT actor, action, detail FROM audit_log WHERE NOT ok ORDER BY id")
    return [(actor, action, detail["refused"]) for actor, action, detail in rows]


def dispatched(conn):
    rows = conn.execute("SELECT data FROM events WHERE kind = 'dispatched' ORDER BY id")
    return [(d["rank"], d["override"]) for (d,) in rows]


def stored_eta(conn, set_id, unit):
    (ranked,) = conn.execute("SELECT ranked FROM shown_sets WHERE id = %s", (set_id,)).fetchone()
    return next(r["eta_s"] for r in ranked if r["unit_id"] == unit)


def test_rank_eta_and_the_logged_suggestions_come_from_the_servers_copy(app, conn, incident_id):
    client = signed_in(app, conn, "dana", "dispatcher")
    store = shown_store(app, client, incident_id)
    assert set(store) == {"set_id", "key", "rows"}  # the page holds no ranking to forge
    forged = {
        **store,
        "incident_id": incident_id,
        "ranked": [{"unit_id": "U002", "eta_s": 1.0, "road_distance_m": 1.0}],
    }
    assert "waiting for 签收" in click(app, client, forged, "U002")
    eta = stored_eta(conn, store["set_id"], "U002")
    assert orders(conn) == [("U002", 2, pytest.approx(eta, rel=1e-6))]
    (data,) = conn.execute("SELECT data FROM events WHERE kind = 'suggestions_shown'").fetchone()
    assert data["shown_set_id"] == store["set_id"]
    assert [r["unit_id"] for r in data["ranked"]][:2] == ["U001", "U002"]
    assert "coverage_pct" in data["ranked"][0]  # the list as the desk drew it
    assert {"unit_id": "U003", "reason": "no_fix"} in data["excluded"]
    assert dispatched(conn) == [(2, None)] and refusals(conn) == []
    # Sending a unit does not change what suggestions depend on: no new version.
    assert conn.execute("SELECT status, version FROM incidents").fetchone() == ("dispatched", 1)


def test_an_unchanged_panel_writes_no_new_set_and_a_held_one_is_renewed(app, conn, incident_id):
    client = signed_in(app, conn, "dana", "dispatcher")
    store = shown_store(app, client, incident_id)
    status, response = show(app, client, incident_id, store)
    assert status in (200, 204)  # 204: every output unchanged
    assert "desk-shown" not in response and "desk-suggestions" not in response
    assert conn.execute("SELECT count(*) FROM shown_sets").fetchone() == (1,)
    # Held past half the age limit, the same list is stored again as still shown.
    conn.execute("UPDATE shown_sets SET shown_at = shown_at - interval '70 seconds'")
    conn.commit()
    status, response = show(app, client, incident_id, store)
    assert status == 200 and "desk-suggestions" not in response
    renewed = response["desk-shown"]["data"]
    assert renewed["key"] == store["key"] and renewed["set_id"] != store["set_id"]
    assert conn.execute("SELECT count(*) FROM shown_sets").fetchone() == (2,)


def test_a_forged_set_id_is_refused_and_audited(app, conn, incident_id):
    client = signed_in(app, conn, "dana", "dispatcher")
    store = shown_store(app, client, incident_id)
    for forged in (store["set_id"] + 1000, 2**70, -1):
        assert "not on record" in click(app, client, {**store, "set_id": forged}, "U001")
    assert "Choose an incident" in click(app, client, {**store, "set_id": "1"}, "U001")
    assert orders(conn) == []
    assert refusals(conn) == [("dana", "dispatch", "no_set")] * 3


def test_another_users_set_needs_the_override_right(app, conn, incident_id):
    alice = signed_in(app, conn, "alice", "dispatcher")
    theirs = shown_store(app, alice, incident_id)
    dana = signed_in(app, conn, "dana", "dispatcher")
    assert "needs the override right" in click(app, dana, theirs, "U001")
    assert orders(conn) == []
    assert refusals(conn) == [("dana", "override", "needs_override")]
    (detail,) = conn.execute("SELECT detail FROM audit_log WHERE NOT ok").fetchone()
    assert detail["overrides"] == {"U001": "other_viewer"}
    boss = signed_in(app, conn, "boss", "commander")
    assert "as an override" in click(app, boss, theirs, "U001")
    assert orders(conn) == [("U001", None, None)]
    assert dispatched(conn) == [(None, "other_viewer")]
    # Not shown to the commander: no suggestions_shown is logged in their name.
    shown = conn.execute("SELECT count(*) FROM events WHERE kind = 'suggestions_shown'")
    assert shown.fetchone() == (0,)


def test_the_same_user_in_another_session_is_another_viewer(app, conn, incident_id):
    first = signed_in(app, conn, "dana", "dispatcher")
    store = shown_store(app, first, incident_id)
    second = app.server.test_client()
    assert second.post("/login", data={"name": "dana", "password": PASSWORD}).status_code == 303
    assert "needs the override right" in click(app, second, store, "U001")
    assert orders(conn) == []


def test_a_stale_set_needs_the_override_right(app, conn, incident_id):
    client = signed_in(app, conn, "dana", "dispatcher")
    store = shown_store(app, client, incident_id)
    conn.execute("UPDATE shown_sets SET shown_at = shown_at - interval '121 seconds'")
    conn.commit()
    assert "needs the override right" in click(app, client, store, "U001")
    fresh = shown_store(app, client, incident_id)
    conn.execute("UPDATE incidents SET priority = 2 WHERE id = %s", (incident_id,))
    conn.commit()
    assert conn.execute("SELECT version FROM incidents").fetchone() == (2,)
    assert "needs the override right" in click(app, client, fresh, "U001")
    assert orders(conn) == []
    rows = conn.execute("SELECT detail FROM audit_log WHERE NOT ok ORDER BY id").fetchall()
    assert [d["overrides"] for (d,) in rows] == [{"U001": "too_old"}, {"U001": "incident_changed"}]


def test_a_unit_not_in_the_set_is_an_override(app, conn, incident_id):
    dana = signed_in(app, conn, "dana", "dispatcher")
    store = shown_store(app, dana, incident_id)
    assert "needs the override right" in click(app, dana, store, "U003")  # never reported
    assert "needs the override right" in click(app, dana, store, "NOPE")
    boss = signed_in(app, conn, "boss", "commander")
    mine = shown_store(app, boss, incident_id)
    assert "Not sent: no unit NOPE" in override(app, boss, mine, "NOPE")
    assert "as an override" in click(app, boss, mine, "U003")
    assert "as an override" in override(app, boss, mine, "U002")  # in the set, but chosen
    assert orders(conn) == [("U003", None, None), ("U002", None, None)]
    assert dispatched(conn) == [(None, "not_in_set"), (None, "chosen")]
    # The refused "NOPE" left nothing behind: one logged set per dispatch sent.
    shown = conn.execute("SELECT count(*) FROM events WHERE kind = 'suggestions_shown'")
    assert shown.fetchone() == (2,)
    assert refusals(conn) == [
        ("dana", "override", "needs_override"),
        ("dana", "override", "needs_override"),
        ("boss", "dispatch", "no_unit"),
    ]


def test_a_closed_incident_takes_no_dispatch(app, conn, incident_id):
    boss = signed_in(app, conn, "boss", "commander")
    store = shown_store(app, boss, incident_id)
    with conn.transaction():
        assert inc.close_incident(conn, incident_id, "desk:boss", datetime.now(UTC))
    assert click(app, boss, store, "U001") == f"Not sent: incident #{incident_id} is closed."
    assert override(app, boss, store, "U002") == f"Not sent: incident #{incident_id} is closed."
    assert orders(conn) == []
    assert conn.execute("SELECT count(*) FROM events WHERE kind = 'dispatched'").fetchone() == (0,)


def test_a_missing_incident_is_a_message_not_a_server_error(app, conn, incident_id):
    client = signed_in(app, conn, "dana", "dispatcher")
    for missing in (incident_id + 999, "abc", 2**70):
        status, response = show(app, client, missing)
        assert status == 200
        assert "No incident #" in json.dumps(response["desk-details"]["children"])
        assert response["desk-shown"]["data"] is None
    assert "Choose an incident" in click(app, client, None, "U001")
    assert orders(conn) == []


def test_the_cli_dispatches_through_the_same_stored_set(db_url, conn, incident_id):
    import os
    import subprocess
    import sys

    def suggest(*args):
        return subprocess.run(
            [sys.executable, "-m", "dispatchmap.cli", "suggest", *args],
            env={**os.environ, "DATABASE_URL": db_url},
            capture_output=True,
            text=True,
            timeout=60,
        )

    done = suggest(str(incident_id), "--dispatch", "1")
    assert done.returncode == 0, done.stderr
    assert "dispatched 1 unit(s); refused 0" in done.stdout
    (set_id,) = conn.execute("SELECT id FROM shown_sets").fetchone()
    assert orders(conn) == [("U001", 1, pytest.approx(stored_eta(conn, set_id, "U001")))]
    (data,) = conn.execute("SELECT data FROM events WHERE kind = 'suggestions_shown'").fetchone()
    assert data["shown_set_id"] == set_id
    missing = suggest(str(incident_id + 999))
    assert missing.returncode == 1 and f"no incident {incident_id + 999}" in missing.stderr
    conn.commit()  # end the reads' transaction, so the close below commits
    with conn.transaction():
        inc.close_incident(conn, incident_id, "desk", datetime.now(UTC) + timedelta(seconds=1))
    closed = suggest(str(incident_id), "--dispatch", "1")
    assert closed.returncode == 1 and "incident_closed" in closed.stderr
    assert len(orders(conn)) == 1


def test_the_incident_version_moves_with_what_suggestions_depend_on(conn, incident_id):
    def after(change):
        conn.execute(f"UPDATE incidents SET {change} WHERE id = %s", (incident_id,))
        return conn.execute(
            "SELECT version FROM incidents WHERE id = %s", (incident_id,)
        ).fetchone()[0]

    assert after("status = 'dispatched'") == 1
    assert after("status = 'onscene', notes = 'more'") == 1
    assert after("version = 40") == 1  # only the trigger moves it
    assert after("type = 'disturbance'") == 2
    assert after("priority = 3") == 3
    assert after("geom = ST_SetSRID(ST_MakePoint(24.95, 60.17), 4326)") == 4
    assert after("status = 'cleared'") == 5
    assert after("status = 'closed'") == 6


def test_closing_a_missing_incident_is_a_message(app, conn, incident_id):
    boss = signed_in(app, conn, "boss", "commander")
    for missing in (incident_id + 999, "abc"):
        values = {"desk-close": 1, "desk-selected": missing}
        body = call_body(app, callback_key(app, "desk-close"), values, ["desk-close.n_clicks"])
        answer = post(boss, body)
        assert answer.status_code == 200
        message = answer.get_json()["response"]["desk-message"]["children"]
        assert message == f"No incident #{missing}."


def test_the_desk_and_the_cli_log_the_same_suggestions(app, db_url, conn, incident_id):
    """One use-case shows and dispatches for both: the desk's click and the
    CLI's ``suggest --dispatch 1`` log the same list for the same incident
    (the CLI once stored the list without the coverage figures the desk drew)."""
    import os
    import subprocess
    import sys

    from geo.status import Action

    client = signed_in(app, conn, "dana", "dispatcher")
    assert "waiting for 签收" in click(app, client, shown_store(app, client, incident_id), "U001")
    with conn.transaction():  # the order undone: the unit is as it was before
        done = inc.apply_action(conn, "U001", Action.CANCEL, "desk:dana", datetime.now(UTC))
    assert done.ok and done.status == "available"
    cli = subprocess.run(
        [sys.executable, "-m", "dispatchmap.cli", "suggest", str(incident_id), "--dispatch", "1"],
        env={**os.environ, "DATABASE_URL": db_url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cli.returncode == 0, cli.stderr
    rows = conn.execute(
        "SELECT actor, data FROM events WHERE kind = 'suggestions_shown' ORDER BY id"
    ).fetchall()
    assert [actor for actor, _ in rows] == ["desk:dana", "cli"]
    desk, line = (data for _, data in rows)

    def logged(data):
        ranked = [{k: v for k, v in r.items() if k != "fix_age_s"} for r in data["ranked"]]
        return ranked, data["excluded"], data["shortfall"]

    assert logged(line) == logged(desk)
    assert "coverage_pct" in line["ranked"][0] and len(line["ranked"]) >= 2
    ages = [
        (r["fix_age_s"], s["fix_age_s"])
        for r, s in zip(desk["ranked"], line["ranked"], strict=True)
    ]
    assert all(0 <= later - first < 30 for first, later in ages)  # read a moment later
    assert orders(conn) == [("U001", 1, pytest.approx(desk["ranked"][0]["eta_s"]))] * 2
