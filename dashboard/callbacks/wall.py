"""Wall callbacks: every tick, the units layer's delta, counters and clock."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from dash import Dash, Input, Output, State, no_update

from dashboard import checks, ids, views
from dashboard.callbacks import live
from dashboard.deps import Deps
from dashboard.i18n import t
from dashboard.layout.quality import wall_tile
from dashboard.layout.wall import alarm_strip, counters, incident_counts
from geo import queries
from store import alarms as alarm_store
from store import incidents as incident_store
from store import quality as stored_quality

QUALITY_TILE_EVERY_MS = 10000  # an hour's counts need not be re-read every tick


def register(app: Dash, deps: Deps) -> None:
    live.register(app, ids.UNITS, ids.UNITS_DELTA, ids.UNITS_VERSION)

    @app.callback(
        Output(ids.UNITS_DELTA, "data"),
        Output(ids.COUNTERS, "children"),
        Output(ids.CLOCK, "children"),
        Output(ids.WALL_INCIDENTS, "data"),
        Output(ids.WALL_INCIDENT_COUNTS, "children"),
        Output(ids.WALL_ALARMS, "children"),
        Input(ids.TICK, "n_intervals"),
        State(ids.UNITS_VERSION, "data"),
    )
    def refresh(_n: int | None, version: Any) -> tuple[Any, ...]:
        now = datetime.now(UTC)
        with deps.read() as conn:
            delta = live.units_update(conn, deps, version, now)
            rows = queries.unit_positions(conn, now)
            incidents = incident_store.open_incidents(conn, now)
            open_alarms = alarm_store.open_alarms(conn)
        stale_s, offline_s = deps.presence.stale_s, deps.presence.offline_s
        lang = deps.dash.language
        return (
            delta,
            counters(
                views.presence_counts(rows, stale_s, offline_s), views.status_counts(rows), lang
            ),
            views.clock_text(now, deps.tz) + _read_note(deps, lang),
            views.incidents_geojson(incidents),
            incident_counts(Counter(r["priority"] for r in incidents), lang),
            alarm_strip(views.wall_alarms(open_alarms, rows, now, stale_s, offline_s, lang), lang),
        )

    every = max(1, round(QUALITY_TILE_EVERY_MS / deps.dash.refresh_ms))

    @app.callback(Output(ids.WALL_QUALITY, "children"), Input(ids.TICK, "n_intervals"))
    def quality_tile(n: int | None) -> Any:
        if n is not None and checks.integer(n, "n_intervals") % every:
            return no_update
        with deps.read() as conn:
            return wall_tile(stored_quality.message_totals(conn, datetime.now(UTC), 3600.0))


def _read_note(deps: Deps, lang: str) -> str:
    """Said on the wall while a configured replica is left for the primary."""
    reads = deps.reads
    if reads is None or reads.replica is None or reads.state == "replica":
        return ""
    return " · " + t("reading from the primary ({why})", lang, why=reads.state.split(": ", 1)[-1])
