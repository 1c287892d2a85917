"""Load an incident's review: everything its one-page report shows, for the
report route and ``dispatchmap replay-export --format pdf`` alike."""

from __future__ import annotations

from datetime import timedelta

import psycopg

from geo import queries, records
from geo.incident_review import Review, dispatched_units, map_extent
from geo.replay import segment_between
from geo.replay_window import MARGIN_S, incident_window
from geo.response import intervals
from geo.retention import BBox
from store import incidents as incident_store
from store import replay as history


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
    row = history.review_incident(conn, incident_id)
    if row is None:
        raise LookupError(f"no incident {incident_id}")
    events = incident_store.incident_events(conn, incident_id)
    margin = timedelta(seconds=margin_s)
    start, end = incident_window(events, margin_s) or (
        row["created_at"] - margin,
        row["created_at"] + margin,
    )
    sent = dispatched_units(events)
    read = history.track_window(conn, start, end, unit_ids=sent) if sent else {}
    tracks = {u: segment_between(t, start, end) for u, t in read.items()}
    points = [(row["lon"], row["lat"])] + [(f.lon, f.lat) for t in tracks.values() for f in t.fixes]
    # An area is shown whole: widened (or heightened) to the map's shape.
    corners = [(area[0], area[1]), (area[2], area[3])] if area else points
    extent = map_extent(corners, aspect, 0.0, 0.0) if area else map_extent(points, aspect)
    clock = history.review_clock(conn, incident_id)
    return Review(
        incident=row,
        events=events,
        start=start,
        end=end,
        tracks=tracks,
        call_signs={u["id"]: u["call_sign"] for u in queries.unit_positions(conn, end)},
        extent=extent,
        roads=history.review_roads(conn, extent),
        intervals=intervals(clock) if clock else {},
        chain=records.chain_cover(conn, incident_id),
    )
