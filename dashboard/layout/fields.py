"""Small builders the desk's panels share: a labelled form field with room
for its refusal, and a status as shown."""

from __future__ import annotations

from typing import Any

from dash import html

from dashboard.i18n import t


def labelled_field(label: str, control: Any, error_id: str) -> html.Div:
    """A form control with its label and, under it, where its refusal is shown."""
    return html.Div(
        className="field",
        children=[
            html.Label(label, htmlFor=control.id),
            control,
            html.Div(id=error_id, className="field-error"),
        ],
    )


def status_text(value: str, lang: str) -> str:
    """A unit, order or incident status as shown ("out_of_service" reads "out of service")."""
    return t(value.replace("_", " "), lang)
