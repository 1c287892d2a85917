"""The drawn basemap's areas (water, buildings) served as GeoJSON by this host.

The maps fetch them by URL (``dl.GeoJSON(url=...)`` in ``layout.wall.basemap``)
instead of carrying them in each page's layout: every page that draws the
basemap (wall, desk, replay, quality) gets them without its own query, and the
browser keeps them between page loads, asking again only with their ETag.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flask
import psycopg
from psycopg_pool import ConnectionPool
from werkzeug.exceptions import Forbidden
from werkzeug.wrappers import Response

from dashboard import auth
from store import city as city_store

WATER_URL = "/basemap/water.geojson"
BUILDINGS_URL = "/basemap/buildings.geojson"


def _geojson(
    pool: ConnectionPool, demo: bool, read: Callable[[psycopg.Connection], dict[str, Any]]
) -> Response:
    # The same people who may open a map: the wall's viewers, or anyone signed in.
    if not auth.wall_allowed(pool, demo) and auth.current_user(pool) is None:
        raise Forbidden("the basemap needs a sign-in or a wall token")
    with pool.connection() as conn:
        data = read(conn)
    response = flask.jsonify(data)
    response.headers["Cache-Control"] = "private, no-cache"  # revalidate: a city may be reloaded
    response.add_etag()
    return response.make_conditional(flask.request)


def install(server: flask.Flask, pool: ConnectionPool, *, demo: bool) -> None:
    """Add GET ``WATER_URL`` and ``BUILDINGS_URL`` to ``server``."""
    server.add_url_rule(
        WATER_URL, "basemap_water", lambda: _geojson(pool, demo, city_store.water_geojson)
    )
    server.add_url_rule(
        BUILDINGS_URL,
        "basemap_buildings",
        lambda: _geojson(pool, demo, city_store.buildings_geojson),
    )
