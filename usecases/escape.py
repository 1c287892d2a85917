"""Escape-route cameras for an incident (geo/escape.py over the loaded roads)."""

from __future__ import annotations

from typing import Any

import psycopg

from geo.escape import Camera, escape_cameras, foot_edges
from geo.routing import RoadGraph, Router
from store import cameras as camera_store
from store import city as city_store
from store import incidents as incident_store


def load_foot_router(conn: psycopg.Connection) -> Router:
    """The foot router (seconds at geo.escape.FLEE_FOOT_KMH) over the loaded paths."""
    return Router(
        RoadGraph(foot_edges(city_store.foot_graph(conn))), city_store.node_positions(conn)
    )


def escape_rows(
    conn: psycopg.Connection, car: Router, foot: Router, incident_id: int
) -> list[dict[str, Any]]:
    """Cameras a car or a person fleeing incident ``incident_id`` could pass
    within 3 minutes, soonest first: each camera's row (``id``, ``name``,
    ``lon``, ``lat`` ...) with ``car_s``, ``foot_s``, ``first_s`` and
    ``band_s`` (60, 120 or 180). Empty for an unknown incident."""
    row = incident_store.incident(conn, incident_id)
    if row is None:
        return []
    rows = {c["id"]: c for c in camera_store.cameras(conn)}
    cams = [
        Camera(c["id"], c["lon"], c["lat"], c["bearing_deg"], c["fov_deg"], c["range_m"])
        for c in rows.values()
    ]
    return [
        {**rows[e.camera_id], "car_s": e.car_s, "foot_s": e.foot_s}
        | {"first_s": e.first_s, "band_s": e.band_s}
        for e in escape_cameras(car, foot, row["lon"], row["lat"], cams)
    ]
