"""The server checks a Dash callback request against the callback that will
really run: its page's right, the right of the input that fired it, and that
the request's inputs are that callback's (real database, Flask test client)."""

from __future__ import annotations

from datetime import UTC, datetime

from geo.intake import NewIncident
from tests.dash_calls import call_body, callback_key
from usecases import access
from usecases import incidents as inc

PASSWORD = "a long test password"
CLICK = '{"type":"dispatch-button","unit":"U001"}.n_clicks'


def post(client, body):
    return client.post("/_dash-update-component", json=body, headers={"Origin": "http://localhost"})


def refusals(conn):
    rows = conn.execute("SELECT actor, action, detail FROM audit_log WHERE NOT ok ORDER BY id")
    return rows.fetchall()


def signed_in(app, conn, role):
    access.add_user(conn, f"{role}1", role, PASSWORD)
    conn.commit()
    client = app.server.test_client()
    login = {"name": f"{role}1", "password": PASSWORD}
    assert client.post("/login", data=login).status_code == 303
    return client


def wall_token_client(app, conn):
    token = access.add_wall_token(conn, "screen 1", "test")
    conn.commit()
    client = app.server.test_client()
    client.set_cookie("dm_wall", token)
    return client


def test_the_wall_initial_calls_need_a_sign_in_or_a_token(app, conn):
    tick = call_body(app, callback_key(app, "tick", output="units-delta"))
    shift = call_body(app, callback_key(app, "wall-charts-tick"))
    assert tick["changedPropIds"] == []  # the shape of Dash's initial call
    anonymous = app.server.test_client()
    assert post(anonymous, tick).status_code == 403
    assert post(anonymous, shift).status_code == 403
    assert refusals(conn) == [("anonymous", "view_wall", {"right": "view_wall"})] * 2
    assert post(wall_token_client(app, conn), tick).status_code == 200
    assert post(signed_in(app, conn, "reviewer"), shift).status_code == 200


def test_a_wall_token_cannot_run_the_dispatch_callback_by_naming_the_tick(app, conn):
    now = datetime.now(UTC)
    with conn.transaction():
        new = NewIncident("assault", 1, 24.9452, 60.1690, now, "", None)
        incident_id = inc.create_incident(conn, new, "desk:alice", "desk", now)
    shown = {"incident_id": incident_id, "ranked": [{"unit_id": "U001"}], "shortfall": None}
    client = wall_token_client(app, conn)
    dispatch = callback_key(app, "dispatch-button")
    forged = call_body(app, dispatch, {"desk-shown": shown}, ["tick.n_intervals"])
    forged["inputs"] = [[{"id": "tick", "property": "n_intervals", "value": 1}]]
    assert post(client, forged).status_code == 403
    button = {"id": {"type": "dispatch-button", "unit": "U001"}, "property": "n_clicks"}
    true_call = {**forged, "inputs": [[{**button, "value": 1}]], "changedPropIds": [CLICK]}
    assert post(client, true_call).status_code == 403  # well formed, but no right
    assert post(client, {**true_call, "changedPropIds": []}).status_code == 403
    assert conn.execute("SELECT count(*) FROM orders").fetchone() == (0,)
    refused = refusals(conn)
    assert [(actor, action) for actor, action, _ in refused] == [
        ("anonymous", "dash_callback"),
        ("anonymous", "dispatch"),
        ("anonymous", "dispatch"),
    ]
    pattern = '{"type":"dispatch-button","unit":["ALL"]}'
    assert refused[0][2] == {"refused": f"inputs: not {pattern}.n_clicks", "output": dispatch}


def test_a_forged_input_list_is_refused_even_for_a_user_with_every_right(app, conn):
    client = signed_in(app, conn, "commander")
    close = callback_key(app, "desk-close")
    true_call = call_body(app, close, {"desk-close": 1}, ["desk-close.n_clicks"])
    forged = {**true_call, "inputs": [{"id": "desk-tick", "property": "n_intervals", "value": 1}]}
    assert post(client, forged).status_code == 403
    unknown = {**true_call, "output": "desk-message.children"}
    assert post(client, unknown).status_code == 403
    not_json = client.post(
        "/_dash-update-component", data="x", headers={"Origin": "http://localhost"}
    )
    assert not_json.status_code == 400
    refused = [(action, detail.get("refused")) for _, action, detail in refusals(conn)]
    assert refused == [
        ("dash_callback", "inputs: not desk-close.n_clicks"),
        ("dash_callback", "no such server callback"),
        ("dash_callback", "no callback named"),
    ]


def test_a_dispatcher_opens_the_desk_but_cannot_fire_a_commanders_button(app, conn):
    client = signed_in(app, conn, "dispatcher")
    desk = callback_key(app, "desk-tick", "unit-search", "unit-kind", "unit-status")
    assert post(client, call_body(app, desk)).status_code == 200  # the initial call
    place = call_body(
        app,
        callback_key(app, "desk-map"),
        {"desk-map": {"latlng": {"lat": 60.17, "lng": 24.94}}},
        ["desk-map.clickData"],
    )
    answer = post(client, place)
    assert answer.status_code == 200
    assert answer.get_json()["response"]["new-lat"] == {"value": "60.170000"}
    close = callback_key(app, "desk-close")
    fired = call_body(app, close, {"desk-close": 1}, ["desk-close.n_clicks"])
    assert post(client, fired).status_code == 403
    assert post(client, {**fired, "changedPropIds": []}).status_code == 403
    assert refusals(conn) == [("dispatcher1", "close_incident", {"right": "close_incident"})] * 2
    wall = wall_token_client(app, conn)
    assert post(wall, place).status_code == 403  # a desk callback needs view_desk


def test_new_dispatch_buttons_are_no_dispatch_but_a_click_is(app, conn):
    """Suggestions drawn on the desk fire the dispatch buttons' callback with
    no click: an admin (who may see the desk, not dispatch) is not refused;
    a click is refused and audited."""
    client = signed_in(app, conn, "admin")
    body = call_body(app, callback_key(app, "dispatch-button"))
    button = {"type": "dispatch-button", "unit": "U001"}

    def with_clicks(clicks):
        item = {"id": button, "property": "n_clicks", "value": clicks}
        changed = ['{"type":"dispatch-button","unit":"U001"}.n_clicks']
        return {**body, "inputs": [[item]], "changedPropIds": changed}

    assert post(client, with_clicks(None)).status_code == 200
    assert refusals(conn) == []
    assert post(client, with_clicks(1)).status_code == 403
    assert refusals(conn) == [("admin1", "dispatch", {"right": "dispatch"})]


def test_a_reviewer_may_use_the_replay_but_not_read_the_desk(app, conn):
    client = signed_in(app, conn, "reviewer")
    desk = call_body(app, callback_key(app, "desk-tick", "unit-search", "unit-kind", "unit-status"))
    assert post(client, desk).status_code == 403
    slider = callback_key(app, "replay-slider", "replay-trail")
    moved = call_body(app, slider, {"replay-slider": 0}, ["replay-slider.value"])
    assert post(client, moved).status_code == 200  # passed the check; no window: no change
    assert refusals(conn) == [("reviewer1", "view_desk", {"right": "view_desk"})]
