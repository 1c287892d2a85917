"""Resolving where the servers are: the configured ones, or private ones
started under the state folder (see :mod:`dispatchmap.services`); a private
broker runs the production configuration with users made from the roster."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg

from dispatchmap.services import EmbeddedPostgres, ProductionMosquitto
from dispatchmap.settings import ServerSettings
from feeds.broker_auth import read_known_passwords, write_broker_auth
from feeds.topics import Topics
from store import roles

log = logging.getLogger("dispatchmap")
DEMO_DATABASE = "dispatchmap"
DEMO_OWNER = "dispatchmap_owner"


@dataclass(frozen=True)
class Broker:
    """Where the broker is. ``credentials_csv`` is set for a private broker
    running the production configuration: every program needs a user from it."""

    url: str
    credentials_csv: Path | None = None

    def url_for(self, username: str) -> str:
        """``url`` with ``username`` and its password from ``credentials_csv``
        (unchanged for a configured broker: its URL says who connects)."""
        if self.credentials_csv is None:
            return self.url
        passwords = read_known_passwords(self.credentials_csv)
        parts = urlsplit(self.url)
        userinfo = f"{quote(username, safe='')}:{quote(passwords[username], safe='')}"
        return urlunsplit(parts._replace(netloc=f"{userinfo}@{parts.netloc}"))


def create_database(admin_url: str, name: str) -> str:
    """Create database ``name`` on the server of ``admin_url`` if missing; its URL."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not roles.database_exists(conn, name):
            roles.create_database(conn, name)
    return admin_url.rsplit("/", 1)[0] + "/" + name


def create_owned_database(admin_url: str, name: str, owner: str) -> str:
    """As the superuser of ``admin_url``: role ``owner`` (not a superuser),
    database ``name`` owned by it with PostGIS and pgRouting (which need a
    superuser), and anything an older run left owned by the superuser handed
    over. Idempotent. Returns the database's URL as ``owner``."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not roles.role_exists(conn, owner):
            roles.create_owner_role(conn, owner)
        if roles.database_exists(conn, name):
            roles.alter_database_owner(conn, name, owner)
        else:
            roles.create_owned_database(conn, name, owner)
    db_admin_url = admin_url.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(db_admin_url, autocommit=True) as conn:
        roles.create_city_extensions(conn)
        for statement in roles.hand_over_statements(conn, owner):
            conn.execute(statement)
    return roles.with_user(db_admin_url, owner)


def database(settings: ServerSettings, stack: contextlib.ExitStack) -> str:
    """The configured database, or a private PostgreSQL living as long as ``stack``."""
    if settings.database_url is not None:
        return settings.database_url
    pg = stack.enter_context(EmbeddedPostgres(settings.state_dir / "postgres"))
    log.info("private PostgreSQL on port %s (data in %s)", pg.port, pg.data)
    return create_owned_database(pg.url, DEMO_DATABASE, DEMO_OWNER)


def broker(
    settings: ServerSettings,
    stack: contextlib.ExitStack,
    roster_rows: Iterable[Mapping[str, Any]],
    topics: Topics,
) -> Broker:
    """The configured broker, or a private Mosquitto living as long as ``stack``
    that runs the production configuration: anonymous clients refused, one
    user per device of ``roster_rows`` and per service, and the ACL, all
    generated now into ``state_dir/broker-auth`` (credentials 0600, the folder
    0700; passwords issued before are kept). One ingest user: the demo runs
    one ingest worker."""
    if settings.mqtt_url is not None:
        return Broker(settings.mqtt_url)
    folder = settings.state_dir / "broker-auth"
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    rows = [{key: str(value or "") for key, value in row.items()} for row in roster_rows]
    auth = write_broker_auth(rows, folder, topics, ingest_workers=1)
    mq = stack.enter_context(ProductionMosquitto(settings.state_dir / "mosquitto", auth))
    log.info("private Mosquitto on port %s (production configuration)", mq.port)
    return Broker(mq.url, auth.credentials_csv)
