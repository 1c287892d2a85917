"""The data-quality page: ``page(deps)`` builds it from one read of the
database; ``register(app, deps)`` attaches its refresh, table, drill-down
callbacks and the CSV export (``/quality.csv``).

The page is for commanders and admins (right ``view_quality``): the server
checks it on every read here, the page load, each refresh, the drill-down and
the CSV, not only when ``/quality`` itself is opened.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from dash import Dash, Input, Output, html, no_update
from flask import Response

from dashboard import auth, checks, ids
from dashboard.deps import Deps
from dashboard.layout import quality as layout
from dashboard.layout import quality_drill
from dashboard.layout.quality_feeds import feed_cards
from dispatchmap.settings import IngestSettings
from geo import quality
from store import city as city_store
from store import quality as stored
from usecases.quality import Snapshot, quality_snapshot

WINDOW_S = 3600.0
BUCKET_S = 300.0
REFRESH_MS = 15000
REJECTIONS_SHOWN = 20
TRACK_FIXES = 50
RIGHT = "view_quality"
MAX_RECORDS = 100_000  # device rows a page's store may send back (a large fleet has 30,000)
_TEXT, _COUNT = (str,), (int,)
RECORD_SCHEMA = {
    "device_id": _TEXT, "unit_id": (str, type(None)), "call_sign": (str, type(None)),
    "format": _TEXT, "presence": _TEXT, "fix_age_s": (int, float, type(None)),
    "messages_n": _COUNT, "rejected_n": _COUNT, "rejected_by_reason": (dict,),
    "last_message": _TEXT, "last_fix": _TEXT, "acc": _TEXT,
}  # fmt: skip
"""What ``layout.device_records`` stores, by key: the JSON types of its values."""


@cache
def _max_fix_age_s() -> float:
    """The ingest's max fix age, which bounds the history the window reads."""
    return IngestSettings().max_age_s


def read_snapshot(deps: Deps, now: datetime) -> Snapshot:
    """Everything the page shows, read in one connection at ``now``."""
    with deps.read() as conn:
        return quality_snapshot(
            conn,
            now,
            WINDOW_S,
            BUCKET_S,
            deps.presence.stale_s,
            deps.presence.offline_s,
            _max_fix_age_s(),
        )


def _parts(deps: Deps, snap: Snapshot) -> dict[str, Any]:
    stale_s = deps.presence.stale_s
    return {
        "as_of": f"last hour · as of {layout.clock(snap.now, deps.tz)}",
        "summary_tiles": layout.summary(snap.totals, snap.devices, snap.units, stale_s),
        "cards": feed_cards(snap.feeds, snap.now, WINDOW_S, BUCKET_S, deps.tz),
        "units": layout.unit_section(snap.units, stale_s, deps.tz),
        "records": layout.device_records(snap.devices, deps.tz),
    }


def page(deps: Deps) -> html.Div:
    """The ``/quality`` page as of now, with the city's roads for the drill-down map."""
    auth.require(deps.pool, RIGHT, "view_quality")
    snap = read_snapshot(deps, datetime.now(UTC))
    with deps.read() as conn:
        roads = city_store.roads_geojson(conn)
        bounds = city_store.city_extent(conn)
    return layout.quality_page(
        **_parts(deps, snap), roads=roads, bounds=bounds, refresh_ms=REFRESH_MS
    )


def register(app: Dash, deps: Deps) -> None:
    @app.callback(
        Output(ids.QUALITY_AS_OF, "children"),
        Output(ids.QUALITY_SUMMARY, "children"),
        Output(ids.QUALITY_FEEDS, "children"),
        Output(ids.QUALITY_UNITS, "children"),
        Output(ids.QUALITY_DATA, "data"),
        Input(ids.QUALITY_TICK, "n_intervals"),
        prevent_initial_call=True,
    )
    def refresh(_n: int | None) -> tuple[Any, ...]:
        auth.require(deps.pool, RIGHT, "view_quality")
        p = _parts(deps, read_snapshot(deps, datetime.now(UTC)))
        return p["as_of"], p["summary_tiles"], p["cards"], p["units"], p["records"]

    @app.callback(
        Output(ids.QUALITY_TABLE, "children"),
        Input(ids.QUALITY_DATA, "data"),
        Input(ids.QUALITY_SORT, "value"),
        Input(ids.QUALITY_FORMATS, "value"),
        Input(ids.QUALITY_PRESENCE, "value"),
        Input(ids.QUALITY_PROBLEMS, "value"),
        Input(ids.QUALITY_SEARCH, "value"),
    )
    def table(records, sort, formats, presences, problems, text) -> Any:
        rows = checks.records(records, "records", RECORD_SCHEMA, MAX_RECORDS)
        for row in rows:
            checks.one_of(row["presence"], "records.presence", tuple(quality.PRESENCE_RANK))
        shown = quality.filter_devices(
            rows,
            checks.some_of(formats, "formats", quality.FEEDS),
            checks.some_of(presences, "presence", tuple(layout.PRESENCES)),
            bool(checks.some_of(problems, "problems", ("yes",))),
            checks.text(text, "search"),
        )
        return layout.device_table(
            quality.worst_first(shown, checks.one_of(sort or "worst", "sort", tuple(layout.SORTS)))
        )

    @app.callback(
        Output(ids.QUALITY_DRILL_TITLE, "children"),
        Output(ids.QUALITY_REJECTIONS, "children"),
        Output(ids.QUALITY_TRACK, "children"),
        Output(ids.QUALITY_MAP, "viewport"),
        Input(ids.URL, "hash"),
    )
    def drill(url_hash: str | None) -> tuple[Any, ...]:
        escaped = checks.text(url_hash, "hash", checks.MAX_ID_CHARS * 3)  # %XX: 3 a character
        device_id = layout.device_from_hash(escaped)
        if device_id:
            checks.identifier(device_id, "device_id")
        else:
            return no_update, no_update, no_update, no_update
        auth.require(deps.pool, RIGHT, "view_quality")
        with deps.read() as conn:
            rejected = stored.device_rejections(conn, device_id, REJECTIONS_SHOWN)
            fixes = stored.device_track(conn, device_id, TRACK_FIXES)
        return (
            quality_drill.drill_title(device_id, len(fixes), len(rejected)),
            quality_drill.rejections_table(rejected, deps.tz),
            quality_drill.track_layers(fixes, deps.tz),
            quality_drill.track_viewport(fixes) or no_update,
        )

    def quality_csv() -> Response:
        auth.require(deps.pool, RIGHT, "export_quality_csv")
        now, presence = datetime.now(UTC), deps.presence
        with deps.read() as conn:
            devices = stored.device_quality(
                conn, now, WINDOW_S, presence.stale_s, presence.offline_s, _max_fix_age_s()
            )
        body = quality.devices_csv(quality.worst_first(devices))
        name = f"quality-{now:%Y%m%dT%H%M%SZ}.csv"
        return Response(
            body,
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    app.server.add_url_rule("/quality.csv", "quality_csv", quality_csv)
