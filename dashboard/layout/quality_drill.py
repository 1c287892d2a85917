"""The data-quality page's drill-down of one device: its recent rejected
messages and its last fixes on a map drawn from the city's roads."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import dash_leaflet as dl
from dash import html

from dashboard import ids
from dashboard.layout.wall import basemap
from geo.quality import REASONS, payload_text


def rejections_table(rows: list[dict[str, Any]], tz: ZoneInfo) -> Any:
    """A device's recent quarantined messages; payloads as text when printable, else hex."""
    if not rows:
        return html.Div("No rejected messages stored for this device.", className="muted")
    body = []
    for r in rows:
        kind, text = payload_text(r["payload"])
        body.append(
            html.Tr(
                [
                    html.Td(r["received_at"].astimezone(tz).strftime("%H:%M:%S"), className="num"),
                    html.Td(REASONS.get(r["reason"], r["reason"]), className="rejected"),
                    html.Td(r["detail"] or "", className="why"),
                    html.Td(
                        [html.Span(kind, className=f"payload-kind {kind}"), html.Code(text)],
                        className="payload",
                    ),
                ]
            )
        )
    head = html.Tr([html.Th(c) for c in ("Received", "Reason", "Detail", "Payload")])
    return html.Table([html.Thead(head), html.Tbody(body)], className="quality-table rejections")


def drill_title(device_id: str, fixes_n: int, rejected_n: int) -> str:
    return f"{device_id}: last {fixes_n} fixes, last {rejected_n} rejected messages"


def track_layers(fixes: list[dict[str, Any]], tz: ZoneInfo) -> list[Any]:
    """The last fixes (newest first in ``fixes``) as a line and dots, the newest larger."""
    if not fixes:
        return []
    line = [[f["lat"], f["lon"]] for f in reversed(fixes)]
    dots = []
    for i, f in enumerate(fixes):
        speed = "" if f["speed_kmh"] is None else f" · {f['speed_kmh']:.0f} km/h"
        acc = "" if f["acc_m"] is None else f" · ±{f['acc_m']:.0f} m"
        size = 14 if i == 0 else 8
        dots.append(
            # DOM markers (not canvas paths): styled in quality.css, found by tests.
            dl.DivMarker(
                position=[f["lat"], f["lon"]],
                iconOptions={
                    "className": "track-dot newest" if i == 0 else "track-dot",
                    "html": "",
                    "iconSize": [size, size],
                    "iconAnchor": [size / 2, size / 2],
                },
                zIndexOffset=1000 if i == 0 else 0,
                children=dl.Tooltip(f"{f['fix_at'].astimezone(tz):%H:%M:%S}{speed}{acc}"),
            )
        )
    return [dl.Polyline(positions=line, color="#5dade2", weight=3, opacity=0.8), *dots]


def track_viewport(fixes: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Bounds fitting the fixes with a little margin; None without fixes."""
    if not fixes:
        return None
    lats, lons = [f["lat"] for f in fixes], [f["lon"] for f in fixes]
    pad = 0.002
    return {
        "bounds": [[min(lats) - pad, min(lons) - pad], [max(lats) + pad, max(lons) + pad]],
        "transition": "fitBounds",
    }


def drill_map(roads: dict[str, Any], bounds: tuple[float, float, float, float] | None) -> dl.Map:
    """The drill-down map: the city's roads (nothing fetched elsewhere) and the track layer."""
    view: dict[str, Any] = {"center": [0, 0], "zoom": 2}
    if bounds:
        view = {
            "bounds": [[bounds[1], bounds[0]], [bounds[3], bounds[2]]],
            "center": [(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2],
            "zoom": 14,
        }
    return dl.Map(
        id=ids.QUALITY_MAP,
        className="quality-map",
        preferCanvas=True,  # thousands of road segments: SVG would take seconds to draw
        attributionControl=False,
        **view,
        children=[*basemap(roads, None, ""), dl.LayerGroup(id=ids.QUALITY_TRACK)],
    )
