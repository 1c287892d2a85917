"""The live units layer shared by the wall and the desk: the server half
(:func:`units_update`, called from a page's tick callback) and the browser
half (:func:`register`, a clientside callback into ``assets/live.js``)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import psycopg
from dash import Dash, Input, Output

from dashboard import live
from dashboard.deps import Deps
from geo import queries


def units_update(
    conn: psycopg.Connection, deps: Deps, version: Any, now: datetime
) -> dict[str, Any]:
    """The delta for a map that sent back ``version`` (everything if none)."""
    since = live.parse_version(version)
    stale_s, offline_s = deps.presence.stale_s, deps.presence.offline_s
    changes = queries.unit_changes(
        conn,
        now,
        since.at if since else None,
        since.snapshot_xmin if since else None,
        stale_s,
        offline_s,
    )
    return live.units_delta(changes, now, since is None, stale_s, offline_s, deps.tz)


def register(app: Dash, layer_id: str, delta_id: str, version_id: str) -> None:
    """Apply each delta stored in ``delta_id`` to the layer ``layer_id`` in the
    browser; the version it applied goes to ``version_id`` for the next tick."""
    app.clientside_callback(
        f"function (delta) {{ return window.dm.live.apply({json.dumps(layer_id)}, delta); }}",
        Output(version_id, "data"),
        Input(delta_id, "data"),
        prevent_initial_call=True,
    )
