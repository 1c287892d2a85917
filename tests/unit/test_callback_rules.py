"""Every Dash callback of the app has an authorisation rule, and a callback
request is checked against the callback Dash will really run."""

from __future__ import annotations

import pytest
from dash import ALL, MATCH, Dash, Input, Output, State
from psycopg_pool import ConnectionPool

from dashboard import auth
from dashboard.app import create_app
from dashboard.callback_requests import CallMismatch, fired_ids, id_key, parse_id, resolve
from dispatchmap.settings import DashboardSettings, PresenceSettings
from tests.dash_calls import call_body, callback_key


@pytest.fixture(scope="module")
def app() -> Dash:
    pool = ConnectionPool("postgresql://unused", open=False)  # building the app opens nothing
    return create_app(DashboardSettings(), PresenceSettings(), pool)


def test_every_callback_of_the_app_has_a_page_rule(app):
    unplaced = {}
    for key, spec in app.callback_map.items():
        try:
            auth.callback_page(spec)
        except LookupError as exc:
            unplaced[key] = str(exc)
    assert unplaced == {}, "add these callbacks' ids to auth.ID_PAGES"
    assert len(app.callback_map) >= 25  # the walk saw the whole app


def test_pages_of_known_callbacks(app):
    def page(*inputs, output=None):
        return auth.callback_page(app.callback_map[callback_key(app, *inputs, output=output)])

    assert page("url", output="page.children") == auth.SHELL
    assert page("url", output="quality-drill-title") == "/quality"  # the shared url aside
    assert page("tick", output="units-delta") == auth.WALL
    assert page("wall-charts-tick") == auth.WALL
    assert page("dispatch-button") == "/desk"
    assert page("desk-close") == "/desk"
    assert page("replay-slider", "replay-trail") == "/replay"
    assert page("admin-token-revoke") == "/admin"


def test_every_right_keyed_input_is_an_input_of_some_callback(app):
    inputs = {id_key(parse_id(d["id"])) for s in app.callback_map.values() for d in s["inputs"]}
    assert set(auth.CALLBACK_RIGHTS) <= inputs


def test_a_callback_on_no_page_or_on_two_has_no_rule():
    app = Dash(__name__)
    app.callback(Output("mystery", "children"), Input("tick", "n_intervals"))(lambda n: n)
    app.callback(Output("desk-queue", "children"), Input("admin-add", "n_clicks"))(lambda n: n)
    specs = list(app.callback_map.values())
    with pytest.raises(LookupError, match="no page for mystery"):
        auth.callback_page(specs[0])
    with pytest.raises(LookupError, match="several pages"):
        auth.callback_page(specs[1])


def test_the_true_call_resolves_and_fires_what_changedpropids_names(app):
    key = callback_key(app, "desk-close")
    body = call_body(app, key, {"desk-close": 1}, ["desk-close.n_clicks"])
    assert resolve(body, app.callback_map) is app.callback_map[key]
    assert fired_ids(body, app.callback_map[key]) == ["desk-close"]
    initial = call_body(
        app, callback_key(app, "desk-tick", "unit-search", "unit-kind", "unit-status")
    )
    spec = resolve(initial, app.callback_map)
    assert fired_ids(initial, spec) == ["desk-tick", "unit-search", "unit-kind", "unit-status"]


def test_the_dispatch_callback_with_the_tick_as_input_is_refused(app):
    dispatch = call_body(app, callback_key(app, "dispatch-button"))
    tick = {"id": "tick", "property": "n_intervals", "value": 1}
    for inputs in ([tick], [[tick]]):
        forged = {**dispatch, "inputs": inputs, "changedPropIds": ["tick.n_intervals"]}
        with pytest.raises(CallMismatch, match="inputs: "):
            resolve(forged, app.callback_map)


@pytest.mark.parametrize(
    "forge",
    [
        lambda b: b.update(inputs=[]),  # too few
        lambda b: b.update(inputs=b["inputs"] * 2),  # too many
        lambda b: b.update(state=[]),  # state left out
        lambda b: b["state"].reverse(),  # state out of order
        lambda b: b["inputs"][0].update(property="value"),  # another property
        lambda b: b.update(changedPropIds=["desk-override-unit.value"]),  # a state as trigger
        lambda b: b.update(changedPropIds="desk-override.n_clicks"),  # not a list
        lambda b: b.update(output="desk-message.children"),  # no such callback
        lambda b: b.update(output="desk-units-version.data"),  # clientside: never served
        lambda b: b.pop("output"),
    ],
)
def test_forged_calls_are_refused(app, forge):
    body = call_body(
        app, callback_key(app, "desk-override"), {"desk-override": 1}, ["desk-override.n_clicks"]
    )
    resolve(body, app.callback_map)  # the true call passes
    forge(body)
    with pytest.raises(CallMismatch):
        resolve(body, app.callback_map)


def test_pattern_inputs_must_have_the_declared_type_and_keys(app):
    key = callback_key(app, "dispatch-button")
    button = {"id": {"type": "dispatch-button", "unit": "U001"}, "property": "n_clicks", "value": 1}
    clicked = '{"type":"dispatch-button","unit":"U001"}.n_clicks'
    body = call_body(app, key, changed=[clicked])
    body["inputs"] = [[button]]
    spec = resolve(body, app.callback_map)
    assert fired_ids(body, spec) == [{"type": "dispatch-button", "unit": "U001"}]
    for wrong in (
        {**button, "id": {"type": "queue-row", "unit": "U001"}},
        {**button, "id": {"type": "dispatch-button", "incident": 1}},
        {**button, "id": "dispatch-button"},
    ):
        body["inputs"] = [[wrong]]
        with pytest.raises(CallMismatch):
            resolve(body, app.callback_map)
    body["inputs"] = [button]  # one component where the pattern says a list
    with pytest.raises(CallMismatch, match="a list expected"):
        resolve(body, app.callback_map)


def test_a_match_pattern_takes_one_component():
    app = Dash(__name__)
    app.callback(
        Output({"type": "row-text", "row": MATCH}, "children"),
        Input({"type": "row", "row": MATCH}, "n_clicks"),
        State({"type": "cells", "row": ALL}, "value"),
    )(lambda n, v: n)
    key = next(iter(app.callback_map))
    row = {"id": {"type": "row", "row": 3}, "property": "n_clicks", "value": 1}
    text = {"id": {"type": "row-text", "row": 3}, "property": "children"}
    body = {"output": key, "outputs": text, "inputs": [row], "state": [[]], "changedPropIds": []}
    assert resolve(body, app.callback_map)
    with pytest.raises(CallMismatch):
        resolve({**body, "inputs": [[row]]}, app.callback_map)
    # Dash answers 500 for outputs that are not the callback's (or none): refused first.
    for outputs in (None, [text], {**text, "id": {"type": "cells", "row": 3}}):
        with pytest.raises(CallMismatch, match="outputs"):
            resolve({**body, "outputs": outputs}, app.callback_map)


def test_unreadable_pattern_ids_are_refused():
    with pytest.raises(CallMismatch, match="unreadable"):
        parse_id('{"type": ')
    assert parse_id('{"type":"x","n":["ALL"]}') == {"type": "x", "n": ["ALL"]}
    assert parse_id("tick") == "tick"
