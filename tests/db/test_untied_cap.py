"""500 made-up device ids from one client draw at most ``untied_shown``
markers (the newest fixes), and the maps say how many more there are (real
database, the real ingest path, the layer's callback through Flask)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dashboard import ids
from dashboard.callbacks.devices import untied_update
from dashboard.deps import Deps
from dispatchmap.settings import DashboardSettings, PresenceSettings
from feeds.pipeline import Limits, Message, Pipeline
from feeds.topics import Topics
from feeds.writer import Writer, ingest_batch
from geo import queries
from store.db import open_pool
from tests.dash_calls import call_body, callback_key

NOW = datetime.now(UTC).replace(microsecond=0)
HOUR_S = 3600.0
MADE_UP = 500


def made_up_devices(conn, n: int, first: int = 0) -> None:
    """``n`` devices nobody registered, one fix each, a second apart, the
    lowest number newest."""
    messages = [
        Message(
            f"dm/gps/fake-{i:03d}",
            json.dumps(
                {"lat": 60.17, "lon": 24.94, "ts": (NOW - timedelta(seconds=i)).isoformat()}
            ).encode(),
            NOW,
        )
        for i in range(first, first + n)
    ]
    with conn.transaction():
        outcomes, _ = ingest_batch(conn, Pipeline(Topics(), Limits()), Writer(), messages)
    assert all(o.rejection is None for o in outcomes)


def test_the_newest_are_read_and_all_are_counted(conn):
    made_up_devices(conn, MADE_UP)
    rows = queries.untied_devices(conn, NOW, HOUR_S, 50)
    assert [r["device_id"] for r in rows] == [f"fake-{i:03d}" for i in range(50)]
    assert {r["untied_n"] for r in rows} == {MADE_UP}


def test_the_layer_holds_the_cap_and_its_key_counts_the_rest(db_url, conn):
    made_up_devices(conn, MADE_UP)
    pool = open_pool(db_url, max_size=1)
    deps = Deps(pool, DashboardSettings(untied_shown=20), PresenceSettings(), ZoneInfo("UTC"))
    try:
        layer, key = untied_update(deps, None, NOW) or ({}, "")
        assert len(layer["features"]) == 20 and layer["more"] == MADE_UP - 20
        made_up_devices(conn, 1, first=MADE_UP)  # older than all shown: only the count moves
        again, again_key = untied_update(deps, key, NOW) or ({}, "")
        assert again["features"] == layer["features"] and again["more"] == MADE_UP - 19
        assert again_key != key
    finally:
        pool.close()


def test_the_wall_says_how_many_more_in_both_languages(db_url, conn):
    """The desk's layer is the same callback on its own tick (browser test)."""
    from dashboard.app import create_app

    made_up_devices(conn, MADE_UP)
    for language, says in (
        ("en", "450 more untied devices not shown"),
        ("zh", "另有 450 个未绑定终端未显示"),
    ):
        pool = open_pool(db_url, max_size=2)
        try:
            cfg = DashboardSettings(demo=True, language=language)
            app = create_app(cfg, PresenceSettings(), pool)
            key = callback_key(app, ids.TICK, output=ids.WALL_UNTIED_MORE)
            body = call_body(app, key, {ids.TICK: 1}, [f"{ids.TICK}.n_intervals"])
            answer = app.server.test_client().post("/_dash-update-component", json=body)
        finally:
            pool.close()
        assert answer.status_code == 200
        response = answer.json["response"]
        assert len(response[ids.WALL_UNTIED]["data"]["features"]) == 50
        assert response[ids.WALL_UNTIED_MORE]["children"] == says
