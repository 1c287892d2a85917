"""Video on the pages: camera health for the quality page. Pure builders."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from dash import html

from dashboard.i18n import t

HEALTH_LABEL = {
    "online": "online",
    "no_signal": "no signal",
    "unreachable": "unreachable",
    "unchecked": "unchecked",
}
# The darkest first, so a dead camera is at the top of the table.
HEALTH_RANK = {"unreachable": 0, "no_signal": 1, "unchecked": 2, None: 3, "online": 4}


def _clock(at: datetime | None, tz: ZoneInfo) -> str:
    return "–" if at is None else at.astimezone(tz).strftime("%H:%M:%S")


def camera_health_table(rows: list[dict[str, Any]], tz: ZoneInfo, lang: str = "en") -> html.Div:
    """Every camera's health (rows of store.cameras.camera_health), dark ones
    first, with since when it holds, when it was last checked and why."""
    ordered = sorted(rows, key=lambda r: (HEALTH_RANK.get(r["status"], 3), r["camera_id"]))
    counts = {s: sum(1 for r in rows if r["status"] == s) for s in HEALTH_LABEL}
    summary = " · ".join(f"{n} {t(HEALTH_LABEL[s], lang)}" for s, n in counts.items() if n)
    head = ["Camera", "Health", "Since", "Checked", "Why"]
    return html.Div(
        [
            html.P(summary or t("unchecked", lang), className="muted"),
            html.Table(
                [
                    html.Thead(html.Tr([html.Th(h) for h in head])),
                    html.Tbody([_row(r, tz, lang) for r in ordered]),
                ],
                className="camera-health",
            ),
        ]
    )


def _row(r: dict[str, Any], tz: ZoneInfo, lang: str) -> html.Tr:
    status = r["status"] or "unchecked"
    return html.Tr(
        [
            html.Td(f"{r['camera_id']} {r['name']}"),
            html.Td(t(HEALTH_LABEL.get(status, status), lang), className=f"health-{status}"),
            html.Td(_clock(r["changed_at"], tz)),
            html.Td(_clock(r["checked_at"], tz)),
            html.Td(r["detail"] or ""),
        ],
        id=f"camera-health-{r['camera_id']}",
    )
