"""The desk's status by hand: a unit, its new status (meal is busy with
"meal"), and what for; refusals show next to their field."""

from __future__ import annotations

from dash import dcc, html

from dashboard import ids
from dashboard.i18n import t
from dashboard.layout.fields import labelled_field, status_text
from geo.status import MANUAL, MAX_REASON


def status_form(unit_options: list[dict[str, str]], lang: str = "en") -> html.Div:
    """The "Unit status" panel: unit, status, reason, Set status."""
    statuses = [{"label": status_text(s, lang), "value": s} for s in MANUAL]
    return html.Div(
        className="panel",
        children=[
            html.H3(t("Unit status", lang)),
            dcc.Dropdown(id=ids.DESK_STATUS_UNIT, options=unit_options),
            labelled_field(
                t("Status", lang),
                dcc.Dropdown(id=ids.DESK_STATUS_VALUE, options=statuses),
                ids.DESK_STATUS_VALUE_ERROR,
            ),
            labelled_field(
                t("Reason", lang),
                dcc.Input(id=ids.DESK_STATUS_REASON, type="text", maxLength=MAX_REASON),
                ids.DESK_STATUS_REASON_ERROR,
            ),
            html.Button(t("Set status", lang), id=ids.DESK_STATUS_SET),
        ],
    )
