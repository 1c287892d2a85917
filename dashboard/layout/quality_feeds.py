"""The data-quality page's feed cards: rate, refused share by reason and a
small chart of accepted and refused messages per time bucket."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dash import dcc, html

from geo.quality import REASONS, Feed, reasons_text, share

FEED_NAMES = {
    "native": "Native JSON",
    "nmea": "NMEA 0183",
    "lip": "TETRA LIP",
    "jt808": "JT/T 808",
    "status": "Terminal status",
    "owntracks": "OwnTracks",
}
ACCEPTED_COLOUR = "#2ecc71"
# fmt: off
REASON_COLOURS = (
    "#e74c3c", "#e67e22", "#f1c40f", "#9b59b6", "#e84393",
    "#c0392b", "#d35400", "#fd79a8", "#a29bfe", "#fab1a0",
)
# fmt: on


def pct(part: int, whole: int) -> str:
    """``part`` of ``whole`` as a percentage with one decimal ("–" of nothing)."""
    value = share(part, whole)
    return "–" if value is None else f"{100.0 * value:.1f} %"


def feed_figure(feed: Feed, now: datetime, bucket_s: float, tz: ZoneInfo) -> dict[str, Any]:
    """A small stacked bar chart: accepted and refused (by reason) per bucket."""
    count = len(feed.accepted)
    x = [
        (now - timedelta(seconds=bucket_s * (count - 1 - i))).astimezone(tz).strftime("%H:%M")
        for i in range(count)
    ]
    data = [
        {
            "type": "bar",
            "name": "accepted",
            "x": x,
            "y": feed.accepted,
            "marker": {"color": ACCEPTED_COLOUR},
        }
    ]
    for i, reason in enumerate(sorted(feed.rejected)):
        colour = REASON_COLOURS[i % len(REASON_COLOURS)]
        data.append(
            {
                "type": "bar",
                "name": REASONS.get(reason, reason),
                "x": x,
                "y": feed.rejected[reason],
                "marker": {"color": colour},
            }
        )
    return {
        "data": data,
        "layout": {
            "barmode": "stack",
            "autosize": True,
            "margin": {"l": 30, "r": 4, "t": 4, "b": 22},
            "showlegend": False,
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
            "font": {"color": "#c9d1d9", "size": 10},
            "xaxis": {"type": "category", "nticks": 4, "showgrid": False},
            "yaxis": {"gridcolor": "#30363d", "rangemode": "tozero"},
        },
    }


def feed_cards(
    feed_list: list[Feed], now: datetime, window_s: float, bucket_s: float, tz: ZoneInfo
) -> list[html.Div]:
    """One card per feed: rate, refused share by reason, and the chart."""
    return [
        html.Div(
            className="feed-card",
            id=f"feed-{f.format}",
            children=[
                html.Div(FEED_NAMES.get(f.format, f.format), className="feed-name"),
                html.Div(
                    f"{f.rate_per_min(window_s):.1f} msg/min · "
                    f"{pct(f.rejected_n, f.messages_n)} rejected",
                    className="feed-rate",
                ),
                html.Div(
                    reasons_text(dict(f.by_reason), f.messages_n) or "no rejects", className="why"
                ),
                dcc.Graph(
                    figure=feed_figure(f, now, bucket_s, tz),
                    config={"displayModeBar": False, "responsive": True},
                    className="feed-chart",
                    style={"height": "120px"},
                ),
            ],
        )
        for f in feed_list
    ]
