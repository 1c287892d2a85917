"""The wall's shift panel: the response clock of the shift and its charts,
on their own slower tick (``layout.wall.SHIFT_REFRESH_MS``) than the map's."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dash import Dash, Input, Output

from dashboard import charts, ids
from dashboard.deps import Deps
from dashboard.layout.wall import shift_tiles
from geo import response
from usecases import shift


def register(app: Dash, deps: Deps) -> None:
    starts = deps.dash.shift_start_times()

    @app.callback(
        Output(ids.WALL_SHIFT, "children"),
        Output(ids.WALL_CHART_INCIDENTS, "figure"),
        Output(ids.WALL_CHART_ACK, "figure"),
        Output(ids.WALL_CHART_ARRIVAL, "figure"),
        Input(ids.WALL_CHARTS_TICK, "n_intervals"),
    )
    def refresh_shift(_n: int | None) -> tuple[Any, ...]:
        now = datetime.now(UTC)
        with deps.read() as conn:
            current = shift.current_shift(conn, now, deps.tz, starts)
        lang, tz = deps.dash.language, deps.tz
        started = current.started_at.astimezone(tz).strftime("%H:%M")
        figures = response.shift_figures(current.clocks, current.orders, now)
        return (
            shift_tiles(figures, started, lang),
            charts.incidents_per_hour(current, tz, lang),
            charts.ack_times(current, tz, lang),
            charts.arrival_times(current, tz, lang),
        )
