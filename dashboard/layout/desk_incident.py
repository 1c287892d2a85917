"""The desk's incident panel: details, suggestions (their figures set in
place in the browser), orders and cameras of the selected incident. Pure
builders: rows in, components out."""

from __future__ import annotations

from typing import Any

from dash import html

from dashboard import ids
from dashboard.i18n import message, t
from dashboard.layout.fields import status_text


def suggestions_table(
    rows: list[dict[str, Any]],
    shortfall: str | None,
    excluded: list[dict[str, Any]],
    coverage_note: str | None = None,
    lang: str = "en",
) -> html.Div:
    """Suggested units, best first. ``coverage_pct``/``coverage_drop_pct`` in
    a row (see ``geo.coverage.with_coverage``) fill "Coverage if sent"."""
    cover_head = html.Th(
        t("Coverage if sent", lang),
        title=t(
            "Share of the road network the other available vehicles still reach within "
            "the target time if this unit goes",
            lang,
        ),
    )
    head = html.Tr(
        [html.Th(t(h, lang) if h else h) for h in ("", "Unit", "ETA", "Road", "Line", "Fix")]
        + [cover_head, html.Th(t("Why", lang))]
    )
    figures = suggestion_figures(rows)
    body = [
        html.Tr(
            [
                html.Td(
                    html.Button(
                        t("Dispatch", lang),
                        id={"type": ids.DISPATCH_BUTTON, "unit": r["unit_id"]},
                        className="primary small",
                    )
                ),
                html.Td(r["call_sign"]),
                *[
                    html.Td(
                        html.Span(figures[f"{r['unit_id']}|{c}"], id=_cell(r["unit_id"], c)),
                        className=_figure_class(r, c),
                    )
                    for c in SUGGESTION_FIGURES
                ],
                html.Td("; ".join(message(reason, lang) for reason in r["reasons"])),
            ]
        )
        for r in rows
    ]
    stale = [e["call_sign"] for e in excluded if e["reason"] == "stale_fix"]
    notes = [html.P(message(shortfall, lang), className="shortfall")] if shortfall else []
    if stale:
        notes.append(
            html.P(t("Stale fix, not suggested: ", lang) + ", ".join(stale), className="stale")
        )
    if coverage_note:
        note = html.Span(coverage_note, id={"type": ids.DESK_CELL, "cell": "note|cover"})
        notes.append(html.P(note, className="coverage-note"))
    return html.Div([html.Table([head, *body], className="suggestions"), *notes])


SUGGESTION_FIGURES = ("eta", "road", "line", "fix", "cover")


def suggestion_figures(ranked: list[dict[str, Any]]) -> dict[str, str]:
    """The suggestion table's figures by ``"unit|column"``: they move every
    tick while units drive, and are set in place (the rows with their Dispatch
    buttons are drawn again only when ``views.suggestions_layout_key`` moves)."""
    out = {}
    for r in ranked:
        drop = int(r.get("coverage_drop_pct") or 0)
        cover = (
            "–"
            if r.get("coverage_pct") is None
            else (f"{r['coverage_pct']} % ({f'−{drop} %' if drop else '±0'})")
        )
        texts = (
            f"{r['eta_s'] / 60:.1f} min",
            f"{r['road_distance_m']:.0f} m",
            f"{r['straight_distance_m']:.0f} m",
            f"{r['fix_age_s']:.0f} s",
            cover,
        )
        out.update(
            {f"{r['unit_id']}|{c}": t for c, t in zip(SUGGESTION_FIGURES, texts, strict=True)}
        )
    return out


def _cell(unit_id: str, column: str) -> dict[str, str]:
    return {"type": ids.DESK_CELL, "cell": f"{unit_id}|{column}"}


def _figure_class(row: dict[str, Any], column: str) -> str | None:
    """A coverage drop of 5 points or more is marked."""
    if column != "cover" or row.get("coverage_pct") is None:
        return None
    return "coverage-cost" if int(row.get("coverage_drop_pct") or 0) >= 5 else "coverage"


def details(row: dict[str, Any], local_time: str, lang: str = "en") -> list[Any]:
    status = status_text(row["status"], lang)
    return [
        html.H3(f"#{row['id']} {row['type']} · P{row['priority']} · {status}"),
        html.P(
            t(
                "created {time} by {who} ({source}); beat {beat}",
                lang,
                time=local_time,
                who=row["created_by"],
                source=row["source"],
                beat=row["beat"] or "-",
            )
        ),
        html.P(row["notes"] or "", className="notes"),
    ]


def orders_list(rows: list[dict[str, Any]], lang: str = "en") -> html.Ul:
    return html.Ul(
        [
            html.Li(
                f"{r['call_sign']}: {status_text(r['state'], lang)}"
                + ("" if r["published_at"] else t(" (not yet sent to terminal)", lang)),
                className=f"order order-{r['state']}",
            )
            for r in rows
        ]
    )


def cameras_list(rows: list[dict[str, Any]], lang: str = "en") -> html.Ul:
    return html.Ul(
        [
            html.Li(
                [
                    html.A(r["name"], href=r["stream_url"], target="_blank"),
                    f" · {r['distance_m']:.0f} m"
                    + (t(" · sees the incident", lang) if r["covers"] else ""),
                ],
                className="covers" if r["covers"] else "",
            )
            for r in rows
        ]
    )
