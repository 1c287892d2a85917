"""``/replay/export.<fmt>?start=…&end=…[&area=…]``: the replay window as
GeoJSON or CSV, the window the page shows (:mod:`usecases.replay`, through
the page's cache) and what ``dispatchmap replay-export`` writes."""

from __future__ import annotations

from datetime import UTC, datetime

import flask
from dash import Dash
from werkzeug.datastructures import MultiDict

from dashboard import auth, checks
from dashboard import replay_views as rviews
from dashboard.deps import Deps
from dashboard.replay_store import Window, WindowCache

FORMATS = ("geojson", "csv")


def export_window(args: MultiDict[str, str], deps: Deps) -> Window:
    """The window an export link names (times as the reviewer types them,
    station time for a time without an offset); :class:`checks.BadInput`
    saying what is wrong otherwise."""
    start, end = checks.text(args.get("start"), "start"), checks.text(args.get("end"), "end")
    today = datetime.now(UTC).astimezone(deps.tz).date()
    times, errors = rviews.typed_window(start, end, deps.tz, today)
    if times is None:
        problem = "; ".join(f"{k}: {v}" for k, v in errors.items() if v)
        raise checks.BadInput("window", problem, f"{start} – {end}")
    try:
        area = rviews.parse_area(checks.text(args.get("area"), "area"))
    except ValueError as exc:
        raise checks.BadInput("area", str(exc), args.get("area")) from None
    return (*times, area)


def register(app: Dash, deps: Deps, cache: WindowCache) -> None:
    @app.server.get("/replay/export.<fmt>")
    def export(fmt: str) -> flask.Response:
        auth.require(deps.pool, "view_replay", "replay_export")
        checks.one_of(fmt, "format", FORMATS)
        t1, t2, area = export_window(flask.request.args, deps)
        loaded = cache.get(t1, t2, area)
        name = f"replay-{t1:%Y%m%dT%H%M%S}Z-{t2:%Y%m%dT%H%M%S}Z.{fmt}"
        if fmt == "csv":
            body = rviews.export_csv(loaded.tracks, loaded.events, loaded.call_signs())
            response = flask.Response(body, mimetype="text/csv")
        else:
            collection = rviews.export_geojson(loaded.tracks, loaded.events, loaded.call_signs())
            response = flask.Response(flask.json.dumps(collection), mimetype="application/geo+json")
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
