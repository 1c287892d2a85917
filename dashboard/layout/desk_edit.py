"""Changing the selected incident on the desk: type, priority, place and
notes; a blank field is left as it is. The units on it get the change."""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from dashboard import ids
from dashboard.i18n import t


def edit_form(types: list[dict[str, Any]], lang: str = "en") -> html.Details:
    """The "Change incident" panel (folded until opened)."""
    name = "name_zh" if lang == "zh" else "name_en"
    options = [{"label": row[name], "value": row["id"]} for row in types]
    return html.Details(
        className="panel edit-incident",
        children=[
            html.Summary(t("Change incident", lang)),
            dcc.Dropdown(id=ids.DESK_EDIT_TYPE, options=options, placeholder=t("Type", lang)),
            dcc.Dropdown(
                id=ids.DESK_EDIT_PRIORITY,
                options=[{"label": f"P{p}", "value": str(p)} for p in range(1, 5)],
                placeholder=t("Priority", lang),
            ),
            html.Div(
                className="row",
                children=[
                    dcc.Input(id=ids.DESK_EDIT_LAT, type="text", placeholder=t("Latitude", lang)),
                    dcc.Input(id=ids.DESK_EDIT_LON, type="text", placeholder=t("Longitude", lang)),
                ],
            ),
            dcc.Textarea(id=ids.DESK_EDIT_NOTES, rows=2, placeholder=t("Notes", lang)),
            html.Button(t("Save changes", lang), id=ids.DESK_EDIT_SAVE),
        ],
    )
