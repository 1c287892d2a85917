"""Resolving where the servers are: the configured ones, or private ones
started under the state folder (see :mod:`dispatchmap.services`)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from dispatchmap.services import EmbeddedMosquitto, EmbeddedPostgres
from dispatchmap.settings import ServerSettings

log = logging.getLogger("dispatchmap")
DEMO_DATABASE = "dispatchmap"
DEMO_OWNER = "dispatchmap_owner"


@dataclass(frozen=True)
class Servers:
    database_url: str
    mqtt_url: str
    embedded: bool


def create_database(admin_url: str, name: str) -> str:
    """Create database ``name`` on the server of ``admin_url`` if missing; its URL."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return admin_url.rsplit("/", 1)[0] + "/" + name


def create_owned_database(admin_url: str, name: str, owner: str) -> str:
    """As the superuser of ``admin_url``: role ``owner`` (not a superuser),
    database ``name`` owned by it with PostGIS and pgRouting (which need a
    superuser), and anything an older run left owned by the superuser handed
    over. Idempotent. Returns the database's URL as ``owner``."""
    from geo import queries
    from geo.roles import with_user

    owner_id, name_id = sql.Identifier(owner), sql.Identifier(name)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        row = conn.execute(queries.sql("role_exists"), (owner,)).fetchone()
        if not (row and row[0]):
            conn.execute(sql.SQL(queries.sql("create_owner_role")).format(owner=owner_id))
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        made = "alter_database_owner" if exists else "create_owned_database"
        conn.execute(sql.SQL(queries.sql(made)).format(name=name_id, owner=owner_id))
    db_admin_url = admin_url.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(db_admin_url, autocommit=True) as conn:
        conn.execute(queries.sql("create_city_extensions"))
        for (statement,) in conn.execute(queries.sql("hand_over_statements"), {"owner": owner}):
            conn.execute(statement)
    return with_user(db_admin_url, owner)


@contextlib.contextmanager
def servers(settings: ServerSettings) -> Iterator[Servers]:
    """The configured servers, or private ones that live as long as the block."""
    with contextlib.ExitStack() as stack:
        db_url, mqtt_url = settings.database_url, settings.mqtt_url
        state: Path = settings.state_dir
        if db_url is None:
            pg = stack.enter_context(EmbeddedPostgres(state / "postgres"))
            db_url = create_owned_database(pg.url, DEMO_DATABASE, DEMO_OWNER)
            log.info("private PostgreSQL on port %s (data in %s)", pg.port, pg.data)
        if mqtt_url is None:
            mq = stack.enter_context(EmbeddedMosquitto(state / "mosquitto"))
            mqtt_url = mq.url
            log.info("private Mosquitto on port %s", mq.port)
        yield Servers(db_url, mqtt_url, settings.database_url is None or settings.mqtt_url is None)
