"""The facts of one incident's review, for its one-page report (read by
:func:`usecases.review.load_review`): the incident and its place, its event
log, its window, the tracks of the units sent to it, the roads around, and
its response clock.

Map geometry is done here too, pure: a :class:`geo.earth.LocalProjection` (equirectangular
about a centre, x scaled by cos(latitude)) and :func:`map_extent`, the box a map
of the incident shows. The report itself is drawn by ``dashboard.report``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from geo.earth import LocalProjection
from geo.records import ChainCover
from geo.replay import Track
from geo.retention import BBox
from usecases.alarms import Thresholds


def centre_of(bbox: BBox) -> LocalProjection:
    """The projection about the middle of ``bbox``."""
    return LocalProjection((bbox[0] + bbox[2]) / 2.0, (bbox[1] + bbox[3]) / 2.0)


def map_extent(
    points: Iterable[tuple[float, float]],
    aspect: float,
    pad: float = 0.12,
    min_span_m: float = 600.0,
) -> BBox:
    """The box (min_lon, min_lat, max_lon, max_lat) a map of ``points``
    (lon, lat) shows: their bounds grown by ``pad`` of the span each side, at
    least ``min_span_m`` metres across, then widened or heightened to
    ``aspect`` (width / height, in metres) about the same centre."""
    pts = list(points)
    if not pts:
        raise ValueError("map_extent needs at least one point")
    lons, lats = [p[0] for p in pts], [p[1] for p in pts]
    proj = centre_of((min(lons), min(lats), max(lons), max(lats)))
    xs, ys = zip(*(proj.xy(lon, lat) for lon, lat in pts), strict=True)
    width = max((max(xs) - min(xs)) * (1 + 2 * pad), min_span_m)
    height = max((max(ys) - min(ys)) * (1 + 2 * pad), min_span_m)
    width, height = max(width, height * aspect), max(height, width / aspect)
    cx, cy = (max(xs) + min(xs)) / 2.0, (max(ys) + min(ys)) / 2.0
    west, south = proj.lonlat(cx - width / 2.0, cy - height / 2.0)
    east, north = proj.lonlat(cx + width / 2.0, cy + height / 2.0)
    return west, south, east, north


def interval_targets(priority: int, limits: Thresholds) -> dict[str, float | None]:
    """Seconds each interval of :data:`geo.response.INTERVALS` should stay
    within, from the dispatcher's alarm timers; None where no timer watches it
    (travel alone has none: the on-scene timer counts from creation)."""
    urgent = priority <= 2
    return {
        "queue_s": limits.queue_p12_s if urgent else limits.queue_p34_s,
        "ack_s": limits.ack_s,
        "turnout_s": limits.enroute_s,
        "travel_s": None,
        "response_s": limits.onscene_p12_s if urgent else limits.onscene_p34_s,
        "on_scene_s": limits.feedback_s,
    }


@dataclass(frozen=True)
class Review:
    """One incident for its report. ``incident`` is the row of
    ``store/sql/replay/review_incident.sql``; ``events`` its log, oldest first; ``tracks`` the
    units dispatched to it, cut to [start, end]; ``roads`` (car, [[lon, lat],
    ...]) meeting ``extent``; ``intervals`` as :func:`geo.response.intervals`;
    ``chain`` the event log's hash-chain head covering its events (None: an
    empty log)."""

    incident: dict[str, Any]
    events: list[dict[str, Any]]
    start: datetime
    end: datetime
    tracks: dict[str, Track]
    call_signs: dict[str, str]
    extent: BBox
    roads: list[tuple[bool, list[list[float]]]]
    intervals: dict[str, float | None]
    chain: ChainCover | None = None


def dispatched_units(events: Iterable[Mapping[str, Any]]) -> list[str]:
    """Units sent, in the order of their first dispatch."""
    return list(dict.fromkeys(e["unit_id"] for e in events if e["kind"] == "dispatched"))
