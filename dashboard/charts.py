"""The wall's small charts of the shift, as Plotly figure dicts. Pure: a
:class:`usecases.shift.Shift` in, data out, so tests read them as data.

Dark, large type, no legend or mode bar: they are read from across the room.
Times on the x axis are the station's local clock (Plotly knows no time
zones, so they are sent as naive local times).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dashboard.i18n import t
from geo.response import ACK_TARGET_S, REACH_TARGET_S, intervals
from usecases.shift import Shift

PRIORITY_COLOUR = {1: "#ff3b30", 2: "#ff9500", 3: "#ffcc00", 4: "#8e8e93"}  # as on the map
IN_TIME, LATE = "#2ecc71", "#ff3b30"
GRID, INK = "#30363d", "#c9d1d9"
ACK_CAP_S = 120.0  # taller values are drawn at the top as ▲
REACH_P34_TARGET_S = 600.0
REACH_CAP_MIN = 20.0


def _local(at: datetime, tz: ZoneInfo) -> str:
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


def hour_starts(started_at: datetime, now: datetime, tz: ZoneInfo) -> list[datetime]:
    """The local clock hours the shift has touched so far, as aware UTC
    starts (the first floored to its hour); at least one."""
    first = started_at.astimezone(tz).replace(minute=0, second=0, microsecond=0)
    hours = [first.astimezone(now.tzinfo)]
    while hours[-1] + timedelta(hours=1) <= now:
        hours.append(hours[-1] + timedelta(hours=1))
    return hours


def _layout(shift: Shift, tz: ZoneInfo, **extra: Any) -> dict[str, Any]:
    # Room after "now" so the newest marker is not cut in half by the edge.
    slack = max(timedelta(minutes=3), (shift.now - shift.started_at) * 0.04)
    return {
        "autosize": True,
        "showlegend": False,
        "margin": {"l": 40, "r": 12, "t": 6, "b": 30},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"color": INK, "size": 16},
        "xaxis": {
            "type": "date",
            "range": [_local(shift.started_at, tz), _local(shift.now + slack, tz)],
            "tickformat": "%H:%M",
            "nticks": 4,
            "showgrid": False,
        },
        **extra,
    }


def incidents_per_hour(shift: Shift, tz: ZoneInfo, lang: str = "en") -> dict[str, Any]:
    """Incidents created in each hour of the shift, stacked by priority: one
    bar trace per priority (P1 at the bottom), one bar per hour."""
    hours = hour_starts(shift.started_at, shift.now, tz)
    counts = {p: [0] * len(hours) for p in PRIORITY_COLOUR}
    for c in shift.clocks:
        slot = int((c["created_at"] - hours[0]).total_seconds() // 3600)
        if 0 <= slot < len(hours) and c["priority"] in counts:
            counts[c["priority"]][slot] += 1
    centres = [_local(h + timedelta(minutes=30), tz) for h in hours]
    data = [
        {
            "type": "bar",
            "name": f"P{p}",
            "x": centres,
            "y": counts[p],
            "width": 3600 * 1000 * 0.8,  # ms on a date axis
            "marker": {"color": PRIORITY_COLOUR[p]},
            "hoverinfo": "skip",
        }
        for p in PRIORITY_COLOUR
    ]
    layout = _layout(shift, tz, barmode="stack")
    layout["xaxis"]["range"] = [_local(hours[0], tz), _local(hours[-1] + timedelta(hours=1), tz)]
    tallest = max(4, *(sum(col) for col in zip(*counts.values(), strict=True)))
    # A fixed range from 0: an empty shift still shows its scale, not a lone "0".
    layout["yaxis"] = {"gridcolor": GRID, "range": [0, tallest * 1.05], "dtick": -(-tallest // 4)}
    return {"data": data, "layout": layout}


def _capped(values: Sequence[float], cap: float) -> tuple[list[float], list[str]]:
    """Values clipped at ``cap``, and a marker symbol: ▲ where clipped."""
    return [min(v, cap) for v in values], ["triangle-up" if v > cap else "circle" for v in values]


def _dots(
    name: str, x: list[str], y: list[float], cap: float, colours: list[str], hollow: bool
) -> dict[str, Any]:
    shown, symbols = _capped(y, cap)
    return {
        "type": "scatter",
        "mode": "markers",
        "name": name,
        "x": x,
        "y": shown,
        "marker": {
            "size": 13,
            "color": colours,
            "symbol": [s + "-open" if hollow else s for s in symbols],
            "line": {"width": 2, "color": colours},
        },
        "hoverinfo": "skip",
    }


def _target_line(y: float, label: str, dash: str = "dash") -> tuple[dict[str, Any], dict[str, Any]]:
    """A horizontal target line across the plot and its label at the right end."""
    line = {
        "type": "line",
        "xref": "paper",
        "x0": 0,
        "x1": 1,
        "y0": y,
        "y1": y,
        "line": {"color": INK, "width": 2, "dash": dash},
    }
    text = {
        "xref": "paper",
        "x": 1,
        "y": y,
        "text": label,
        "showarrow": False,
        "xanchor": "right",
        "yanchor": "bottom",
        "font": {"size": 15, "color": INK},
    }
    return line, text


def ack_times(shift: Shift, tz: ZoneInfo, lang: str = "en") -> dict[str, Any]:
    """Seconds from each order to its 签收 against the 30 s target. Trace 0:
    acknowledged orders (green in time, red late); trace 1: orders not
    acknowledged yet, hollow, at how long they have waited. Values above
    ``ACK_CAP_S`` are drawn at the cap as ▲."""
    done = [o for o in shift.orders if o["ack_s"] is not None]
    open_ = [o for o in shift.orders if o["ack_s"] is None]
    waited = [(shift.now - o["sent_at"]).total_seconds() for o in open_]
    line, text = _target_line(ACK_TARGET_S, f"{ACK_TARGET_S:.0f} s")
    data = [
        _dots(
            t("acknowledged", lang),
            [_local(o["sent_at"], tz) for o in done],
            [o["ack_s"] for o in done],
            ACK_CAP_S,
            [IN_TIME if o["ack_s"] <= ACK_TARGET_S else LATE for o in done],
            hollow=False,
        ),
        _dots(
            t("not acknowledged", lang),
            [_local(o["sent_at"], tz) for o in open_],
            waited,
            ACK_CAP_S,
            [INK if w <= ACK_TARGET_S else LATE for w in waited],
            hollow=True,
        ),
    ]
    layout = _layout(shift, tz, shapes=[line], annotations=[text])
    layout["yaxis"] = {"gridcolor": GRID, "range": [0, ACK_CAP_S * 1.1], "dtick": 60}
    return {"data": data, "layout": layout}


def arrival_times(shift: Shift, tz: ZoneInfo, lang: str = "en") -> dict[str, Any]:
    """Minutes from each incident's creation to the first unit on scene,
    against 5 min (P1/P2) and 10 min (P3/P4). Trace 0: reached, coloured by
    priority; trace 1: not reached yet, hollow, at how long it has waited.
    Values above ``REACH_CAP_MIN`` are drawn at the cap as ▲."""
    reached, waiting = [], []
    for c in shift.clocks:
        response_s = intervals(c)["response_s"]
        if response_s is not None:
            reached.append((c, response_s / 60))
        else:
            waiting.append((c, (shift.now - c["created_at"]).total_seconds() / 60))
    urgent = _target_line(REACH_TARGET_S / 60, "P1–P2 5 min")
    other = _target_line(REACH_P34_TARGET_S / 60, "P3–P4 10 min", dash="dot")
    data = [
        _dots(
            t(label, lang),
            [_local(c["created_at"], tz) for c, _ in rows],
            [m for _, m in rows],
            REACH_CAP_MIN,
            [PRIORITY_COLOUR.get(c["priority"], INK) for c, _ in rows],
            hollow=hollow,
        )
        for label, rows, hollow in (("on scene", reached, False), ("not on scene", waiting, True))
    ]
    layout = _layout(shift, tz, shapes=[urgent[0], other[0]], annotations=[urgent[1], other[1]])
    layout["yaxis"] = {"gridcolor": GRID, "range": [0, REACH_CAP_MIN * 1.1], "dtick": 10}
    return {"data": data, "layout": layout}
