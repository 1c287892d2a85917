"""The untied-devices layer of the wall and the desk: radio terminals and
phones tied to no unit, redrawn on each page's existing tick only when what
it shows changed.

A Dash worker keeps no state per browser, so the page keeps the fingerprint
of what it last received (a ``dcc.Store``) and sends it back each tick; while
it matches, the callback raises ``PreventUpdate`` and the server answers
HTTP 204 with no body. (Returning ``no_update`` for every output is not the
same in Dash 4.4: it still answers 200 with a JSON body.)

At most ``DashboardSettings.untied_shown`` devices are drawn, those with the
newest fixes (one client inventing 500 device ids must not put 500 markers
on every map); the legend says how many more there are."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dash import Dash, Input, Output, State
from dash.exceptions import PreventUpdate

from dashboard import checks, ids, views
from dashboard.deps import Deps
from dashboard.layout.wall import untied_note
from geo import queries

# How long an untied device stays on the map after its last fix, in multiples
# of the offline threshold: an hour at the default 600 s. Long enough for the
# room to notice a stranger that went quiet, short enough that a day's
# passing phones do not pile up.
MAX_AGE_OFFLINE_MULTIPLE = 6
KEY_CHARS = 64  # a fingerprint is 16 hex digits (views.untied_devices_key)


def untied_update(
    deps: Deps, shown_key: str | None, now: datetime
) -> tuple[dict[str, Any], str] | None:
    """(GeoJSON, fingerprint) of the untied devices at ``now``, or None when
    the fingerprint equals ``shown_key`` (the page shows them already)."""
    stale_s, offline_s = deps.presence.stale_s, deps.presence.offline_s
    with deps.read() as conn:
        rows = queries.untied_devices(
            conn, now, offline_s * MAX_AGE_OFFLINE_MULTIPLE, deps.dash.untied_shown
        )
    layer = views.untied_devices_geojson(rows, stale_s, offline_s, deps.tz, deps.dash.language)
    key = views.untied_devices_key(layer)
    return None if key == shown_key else (layer, key)


def register(app: Dash, deps: Deps) -> None:
    """The layer's callback on the wall's tick and on the desk's."""
    lang = deps.dash.language
    for tick, layer_id, key_id, more_id in (
        (ids.TICK, ids.WALL_UNTIED, ids.WALL_UNTIED_KEY, ids.WALL_UNTIED_MORE),
        (ids.DESK_TICK, ids.DESK_UNTIED, ids.DESK_UNTIED_KEY, ids.DESK_UNTIED_MORE),
    ):

        @app.callback(
            Output(layer_id, "data"),
            Output(key_id, "data"),
            Output(more_id, "children"),
            Input(tick, "n_intervals"),
            State(key_id, "data"),
        )
        def refresh(n: Any, shown_key: Any) -> tuple[dict[str, Any], str, str]:
            if n is not None:
                checks.integer(n, "n_intervals")
            key = checks.text(shown_key, "untied key", KEY_CHARS) or None
            update = untied_update(deps, key, datetime.now(UTC))
            if update is None:
                raise PreventUpdate  # unchanged: an empty 204, nothing for the page to do
            layer, new_key = update
            return layer, new_key, untied_note(layer["more"], lang)
