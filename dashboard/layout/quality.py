"""The data-quality page (``/quality``) and the wall's quality tile: pure
builders from the rows of :mod:`geo.quality` to components."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo

from dash import dcc, html

from dashboard import ids
from dashboard.checks import MAX_TEXT_CHARS
from dashboard.layout.quality_drill import drill_map
from dashboard.layout.quality_feeds import FEED_NAMES, pct
from geo.quality import (
    FEEDS,
    reasons_text,
    share,
)

SORTS = {
    "worst": "Worst first",
    "rejected": "Rejected share",
    "fix_age": "Oldest fix",
    "messages": "Most messages",
    "device": "Device id",
}
PRESENCES = {"online": "online", "stale": "stale", "offline": "offline", "no_fix": "never"}
# fmt: off
DEVICE_COLUMNS = (
    "Device", "Unit", "Format", "Presence", "Last msg", "Last fix",
    "Fix age", "Msgs 1 h", "Rejected", "By reason", "Acc. med.",
)
UNIT_COLUMNS = (
    "Unit", "Kind", "Feeds", "Presence", "Last valid fix", "Fix age", "Msgs 1 h", "Rejected",
    "By reason",
)
# fmt: on


def clock(at: datetime | None, tz: ZoneInfo) -> str:
    """``HH:MM:SS`` in the station's time zone; a dash for never."""
    return "–" if at is None else at.astimezone(tz).strftime("%H:%M:%S")


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def device_records(devices: list[dict[str, Any]], tz: ZoneInfo) -> list[dict[str, Any]]:
    """Device rows as JSON-safe records for the page's store: the raw figures
    sorting and filtering need, plus the texts the table shows."""
    return [
        {
            "device_id": d["device_id"],
            "unit_id": d["unit_id"],
            "call_sign": d["call_sign"],
            "format": d["format"],
            "presence": d["presence"],
            "fix_age_s": d["fix_age_s"],
            "messages_n": d["messages_n"],
            "rejected_n": d["rejected_n"],
            "rejected_by_reason": d["rejected_by_reason"],
            "last_message": clock(d["last_message_at"], tz),
            "last_fix": clock(d["last_fix_at"], tz),
            "acc": "–" if d["acc_median_m"] is None else f"{d['acc_median_m']:.0f} m",
        }
        for d in devices
    ]


def _presence(key: str) -> html.Span:
    return html.Span(
        [html.Span(className=f"dot presence-{key}"), PRESENCES.get(key, key)],
        className="presence",
    )


def _unit_cell(r: dict[str, Any]) -> Any:
    if r["unit_id"] is None:
        return html.Span("not on roster", className="flag unknown")
    return r["call_sign"] or r["unit_id"]


def device_href(device_id: str) -> str:
    """The drill-down's address: ``#<device id>`` on this page, so it can be bookmarked."""
    return "#" + quote(device_id, safe="/")


def device_from_hash(url_hash: str | None) -> str | None:
    """The device id in a ``#<device id>`` address; None for an empty hash."""
    device_id = unquote((url_hash or "").lstrip("#"))
    return device_id or None


def device_table(records: list[dict[str, Any]], shown_max: int = 300) -> html.Div:
    """The device table; a click on a device id opens its drill-down (see :func:`device_href`).
    Plain links, not one pattern-matching id per row: with a hundred rows those
    made the Dash renderer freeze the page for seconds."""
    head = html.Tr([html.Th(c) for c in DEVICE_COLUMNS])
    rows = [
        html.Tr(
            className="device-row" + (" has-rejects" if r["rejected_n"] else ""),
            children=[
                html.Td(
                    dcc.Link(
                        r["device_id"],
                        href=device_href(r["device_id"]),
                        title="Show its rejected messages and last fixes",
                        className="device-link",
                    ),
                    className="mono",
                ),
                html.Td(_unit_cell(r)),
                html.Td(r["format"]),
                html.Td(_presence(r["presence"])),
                html.Td(r["last_message"], className="num"),
                html.Td(r["last_fix"], className="num"),
                html.Td(_age(r["fix_age_s"]), className="num"),
                html.Td(str(r["messages_n"]), className="num"),
                html.Td(
                    f"{pct(r['rejected_n'], r['messages_n'])} ({r['rejected_n']})",
                    className="num rejected" if r["rejected_n"] else "num",
                ),
                html.Td(reasons_text(r["rejected_by_reason"], r["messages_n"]), className="why"),
                html.Td(r["acc"], className="num"),
            ],
        )
        for r in records[:shown_max]
    ]
    more = len(records) - shown_max
    return html.Div(
        [
            html.Table([html.Thead(head), html.Tbody(rows)], className="quality-table"),
            html.Div(f"{len(records)} devices", className="muted")
            if more <= 0
            else html.Div(f"{more} more devices not shown: filter to see them", className="muted"),
        ]
    )


def _tile(count: Any, label: str, cls: str = "") -> html.Div:
    return html.Div(
        [html.Div(str(count), className="count"), html.Div(label)], className=f"q-tile {cls}"
    )


def summary(
    totals: dict[str, int],
    devices: list[dict[str, Any]],
    units: list[dict[str, Any]],
    stale_s: float,
) -> list[html.Div]:
    """Headline tiles: the hour's messages and refusals, devices by presence,
    unknown devices, units without a fresh fix and units without any device."""
    by_presence = {k: sum(1 for d in devices if d["presence"] == k) for k in PRESENCES}
    no_fix = sum(
        1 for u in units if u["device_ids"] and (u["fix_age_s"] is None or u["fix_age_s"] > stale_s)
    )
    return [
        _tile(totals["messages_n"], "messages 1 h"),
        _tile(
            f"{totals['rejected_n']} · {pct(totals['rejected_n'], totals['messages_n'])}",
            "rejected 1 h",
            "bad" if totals["rejected_n"] else "",
        ),
        *(
            _tile(n, f"devices {label}", f"presence-{key}")
            for key, label in PRESENCES.items()
            for n in [by_presence[key]]
        ),
        _tile(sum(1 for d in devices if d["unit_id"] is None), "not on roster", "warn"),
        _tile(no_fix, f"units no fix > {stale_s:.0f} s", "warn" if no_fix else ""),
        _tile(sum(1 for u in units if not u["device_ids"]), "units without device"),
        _tile(totals["unrouted_n"], "unknown topic"),
    ]


def unit_section(units: list[dict[str, Any]], stale_s: float, tz: ZoneInfo) -> list[Any]:
    """Units without a fresh fix, units with no device, then every unit."""
    stale = [
        u
        for u in units
        if not u["no_device"] and (u["fix_age_s"] is None or u["fix_age_s"] > stale_s)
    ]
    bare = [u for u in units if u["no_device"]]

    def names(rows: list[dict[str, Any]]) -> str:
        return ", ".join(u["call_sign"] for u in rows) or "none"

    def key(u: dict[str, Any]) -> tuple[Any, ...]:
        age = u["fix_age_s"] if u["fix_age_s"] is not None else float("inf")
        return (
            not u["no_device"],
            -(share(u["rejected_n"], u["messages_n"]) or 0.0),
            -age,
            u["call_sign"],
        )

    rows = [
        html.Tr(
            className="unit-row",
            children=[
                html.Td(u["call_sign"]),
                html.Td(u["kind"]),
                html.Td(
                    html.Span("no device", className="flag unknown")
                    if u["no_device"]
                    else ", ".join(u["formats"]) or "–"
                ),
                html.Td(_presence(u["presence"])),
                html.Td(clock(u["last_fix_at"], tz), className="num"),
                html.Td(_age(u["fix_age_s"]), className="num"),
                html.Td(str(u["messages_n"]), className="num"),
                html.Td(
                    f"{pct(u['rejected_n'], u['messages_n'])} ({u['rejected_n']})", className="num"
                ),
                html.Td(reasons_text(u["rejected_by_reason"], u["messages_n"]), className="why"),
            ],
        )
        for u in sorted(units, key=key)
    ]
    head = html.Tr([html.Th(c) for c in UNIT_COLUMNS])
    return [
        html.Div(
            [html.B(f"No valid fix for more than {stale_s:.0f} s ({len(stale)}): "), names(stale)],
            className="unit-list",
            id="units-without-fix",
        ),
        html.Div(
            [html.B(f"On the roster with no device ({len(bare)}): "), names(bare)],
            className="unit-list",
            id="units-without-device",
        ),
        html.Table([html.Thead(head), html.Tbody(rows)], className="quality-table units"),
    ]


def controls() -> html.Div:
    """Sorting and filtering of the device table."""
    return html.Div(
        className="quality-controls",
        children=[
            dcc.Dropdown(
                id=ids.QUALITY_SORT,
                options=[{"label": v, "value": k} for k, v in SORTS.items()],
                value="worst",
                clearable=False,
                className="q-select",
            ),
            dcc.Dropdown(
                id=ids.QUALITY_FORMATS,
                options=[{"label": FEED_NAMES[f], "value": f} for f in FEEDS],
                multi=True,
                placeholder="All feeds",
                className="q-select wide",
            ),
            dcc.Dropdown(
                id=ids.QUALITY_PRESENCE,
                options=[{"label": v, "value": k} for k, v in PRESENCES.items()],
                multi=True,
                placeholder="Any presence",
                className="q-select wide",
            ),
            dcc.Checklist(
                id=ids.QUALITY_PROBLEMS,
                options=[{"label": " problems only", "value": "yes"}],
                value=[],
                className="q-check",
            ),
            dcc.Input(
                id=ids.QUALITY_SEARCH,
                type="search",
                placeholder="device or call sign",
                debounce=True,
                maxLength=MAX_TEXT_CHARS,  # the server refuses longer (dashboard.checks)
                className="q-search",
            ),
        ],
    )


def quality_page(
    *,
    summary_tiles: list[html.Div],
    cards: list[html.Div],
    records: list[dict[str, Any]],
    units: list[Any],
    roads: dict[str, Any],
    bounds: tuple[float, float, float, float] | None,
    as_of: str,
    refresh_ms: int,
) -> html.Div:
    """The whole page; the device table is filled by a callback from ``records``."""
    return html.Div(
        className="quality",
        children=[
            html.Div(
                className="quality-header",
                children=[
                    html.Div("dispatchmap · data quality", className="quality-title"),
                    html.Div(as_of, id=ids.QUALITY_AS_OF, className="muted"),
                    dcc.Link("Wall", href="/wall", className="q-link"),
                    html.A(
                        "Export CSV",
                        href="/quality.csv",
                        download="quality.csv",
                        className="q-link",
                    ),
                ],
            ),
            html.Div(summary_tiles, id=ids.QUALITY_SUMMARY, className="quality-summary"),
            html.Div(cards, id=ids.QUALITY_FEEDS, className="quality-feeds"),
            html.Div(
                className="quality-main",
                children=[
                    html.Div(
                        className="quality-devices",
                        children=[html.H2("Devices"), controls(), html.Div(id=ids.QUALITY_TABLE)],
                    ),
                    html.Div(
                        className="quality-drill",
                        children=[
                            html.H2("Click a device id", id=ids.QUALITY_DRILL_TITLE),
                            drill_map(roads, bounds),
                            html.Div(id=ids.QUALITY_REJECTIONS),
                        ],
                    ),
                ],
            ),
            html.H2("Units"),
            html.Div(units, id=ids.QUALITY_UNITS),
            html.H2("Cameras"),
            html.Div(id=ids.QUALITY_CAMERAS),
            dcc.Store(id=ids.QUALITY_DATA, data=records),
            dcc.Interval(id=ids.QUALITY_TICK, interval=refresh_ms),
        ],
    )


def wall_tile(totals: dict[str, int]) -> dcc.Link:
    """The wall's quality tile, a link to ``/quality``: refused messages in the last hour."""
    return dcc.Link(
        href="/quality",
        className="wall-quality-link",
        children=[
            html.Div(
                [
                    str(totals["rejected_n"]),
                    html.Span(pct(totals["rejected_n"], totals["messages_n"]), className="share"),
                ],
                className="count",
            ),
            html.Div("rejected 1 h"),
        ],
    )
