"""The facts of one incident's review, for its one-page report: the incident
and its place, its event log, its window, the tracks of the units sent to it,
the roads around, and its response clock.

Map geometry is done here too, pure: a :class:`geo.earth.LocalProjection` (equirectangular
about a centre, x scaled by cos(latitude)) and :func:`map_extent`, the box a map
of the incident shows. The report itself is drawn by ``dashboard.report``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from geo import queries, records, retention
from geo.earth import LocalProjection
from geo.records import ChainCover
from geo.replay import Track, segment_between
from geo.replay_window import MARGIN_S, incident_window
from geo.response import intervals
from geo.retention import BBox
from store import incidents as incident_store
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
    ``review_incident.sql``; ``events`` its log, oldest first; ``tracks`` the
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


def review_incident(conn: psycopg.Connection, incident_id: int) -> dict[str, Any] | None:
    """The incident with type names, ``beat`` name, nearest named ``road`` and
    its ``road_distance_m``; None if there is no such incident."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(queries.sql("review_incident"), (incident_id,)).fetchone()


def review_roads(conn: psycopg.Connection, bbox: BBox) -> list[tuple[bool, list[list[float]]]]:
    """Road edges meeting ``bbox``: (car, coordinates as [lon, lat] lists)."""
    box = dict(zip(("min_lon", "min_lat", "max_lon", "max_lat"), bbox, strict=True))
    return [(bool(car), coords) for car, coords in conn.execute(queries.sql("review_roads"), box)]


def review_clock(conn: psycopg.Connection, incident_id: int) -> dict[str, Any] | None:
    """The incident's milestones (the columns of ``response_clock.sql``)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(queries.sql("review_clock"), (incident_id,)).fetchone()


def dispatched_units(events: Iterable[Mapping[str, Any]]) -> list[str]:
    """Units sent, in the order of their first dispatch."""
    return list(dict.fromkeys(e["unit_id"] for e in events if e["kind"] == "dispatched"))


def load_review(
    conn: psycopg.Connection,
    incident_id: int,
    aspect: float,
    area: BBox | None = None,
    margin_s: float = MARGIN_S,
) -> Review:
    """Everything the report of ``incident_id`` shows; the map covers
    ``area`` if given, else the incident and the tracks at ``aspect`` (width /
    height). Raises LookupError for an unknown incident."""
    row = review_incident(conn, incident_id)
    if row is None:
        raise LookupError(f"no incident {incident_id}")
    events = incident_store.incident_events(conn, incident_id)
    margin = timedelta(seconds=margin_s)
    start, end = incident_window(events, margin_s) or (
        row["created_at"] - margin,
        row["created_at"] + margin,
    )
    sent = dispatched_units(events)
    read = retention.track_window(conn, start, end, unit_ids=sent) if sent else {}
    tracks = {u: segment_between(t, start, end) for u, t in read.items()}
    points = [(row["lon"], row["lat"])] + [(f.lon, f.lat) for t in tracks.values() for f in t.fixes]
    # An area is shown whole: widened (or heightened) to the map's shape.
    corners = [(area[0], area[1]), (area[2], area[3])] if area else points
    extent = map_extent(corners, aspect, 0.0, 0.0) if area else map_extent(points, aspect)
    clock = review_clock(conn, incident_id)
    return Review(
        incident=row,
        events=events,
        start=start,
        end=end,
        tracks=tracks,
        call_signs={u["id"]: u["call_sign"] for u in queries.unit_positions(conn, end)},
        extent=extent,
        roads=review_roads(conn, extent),
        intervals=intervals(clock) if clock else {},
        chain=records.chain_cover(conn, incident_id),
    )
