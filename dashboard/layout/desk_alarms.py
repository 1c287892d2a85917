"""The desk's alarms: every open alarm with who took it, or a Take button;
an emergency nobody has taken sounds in the browser (``assets/desk.js``,
WebAudio: no sound file is fetched)."""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from dashboard import ids
from dashboard.i18n import t


def panel(lang: str = "en") -> html.Div:
    """The alarm panel, its list drawn by the tick, and the tone's stores."""
    return html.Div(
        className="panel",
        children=[
            html.H3(t("Alarms", lang)),
            html.Div(id=ids.DESK_ALARMS),
            dcc.Store(id=ids.DESK_ALARMS_KEY),
            dcc.Store(id=ids.DESK_TONE),
            html.Div(id=ids.DESK_TONE_STATE, className="tone-state", hidden=True),
        ],
    )


def alarm_list(alarms: list[dict[str, Any]], lang: str = "en") -> html.Ul | html.P:
    """One row per open alarm (rows of :func:`dashboard.views.wall_alarms`
    with an ``id``), most severe first: its text, then a Take button or who
    took it (in the text already)."""
    if not alarms:
        return html.P(t("No alarms", lang), className="hint")
    return html.Ul(
        className="desk-alarms",
        children=[
            html.Li(
                className=f"alarm-row severity-{a['severity']}"
                + (" taken" if a["taken_by"] else ""),
                children=[
                    html.Span(a["text"]),
                    None
                    if a["taken_by"]
                    else html.Button(
                        t("Take", lang), id={"type": ids.ALARM_TAKE, "alarm": a["id"]}
                    ),
                ],
            )
            for a in alarms
        ],
    )
