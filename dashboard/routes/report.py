"""``/replay/report.pdf?incident=ID``: the one-page incident report of
``dispatchmap replay-export --format pdf``, for the replay page to link to
(reviewer, commander, admin)."""

from __future__ import annotations

from datetime import UTC, datetime

import flask
from dash import Dash
from werkzeug.exceptions import NotFound

from dashboard import auth, checks
from dashboard.deps import Deps
from dashboard.report import MAP_ASPECT, incident_report_pdf, report_filename
from dispatchmap.commands import dispatch_thresholds
from geo.incident_review import interval_targets
from usecases.review import load_review


def register(app: Dash, deps: Deps) -> None:
    @app.server.get("/replay/report.pdf")
    def report_pdf() -> flask.Response:
        auth.require(deps.pool, "view_replay", "replay_report")
        incident_id = checks.integer_text(flask.request.args.get("incident"), "incident")
        with deps.read() as conn:
            try:
                review = load_review(conn, incident_id, MAP_ASPECT)
            except LookupError as exc:
                raise NotFound(str(exc)) from None
        targets = interval_targets(review.incident["priority"], dispatch_thresholds(deps.dispatch))
        body = incident_report_pdf(
            review, targets, deps.tz, deps.dash.language, deps.presence.stale_s, datetime.now(UTC)
        )
        response = flask.Response(body, mimetype="application/pdf")
        response.headers["Content-Disposition"] = (
            f'attachment; filename="{report_filename(review.incident)}"'
        )
        return response
