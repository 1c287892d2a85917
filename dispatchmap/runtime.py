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


@contextlib.contextmanager
def servers(settings: ServerSettings) -> Iterator[Servers]:
    """The configured servers, or private ones that live as long as the block."""
    with contextlib.ExitStack() as stack:
        db_url, mqtt_url = settings.database_url, settings.mqtt_url
        state: Path = settings.state_dir
        if db_url is None:
            pg = stack.enter_context(EmbeddedPostgres(state / "postgres"))
            db_url = create_database(pg.url, DEMO_DATABASE)
            log.info("private PostgreSQL on port %s (data in %s)", pg.port, pg.data)
        if mqtt_url is None:
            mq = stack.enter_context(EmbeddedMosquitto(state / "mosquitto"))
            mqtt_url = mq.url
            log.info("private Mosquitto on port %s", mq.port)
        yield Servers(db_url, mqtt_url, settings.database_url is None or settings.mqtt_url is None)
