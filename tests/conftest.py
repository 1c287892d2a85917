"""Shared fixtures: real PostGIS and Mosquitto, a fresh database per test,
a per-test topic prefix, and ``wait_until`` instead of sleeping.

With ``DATABASE_URL`` / ``MQTT_URL`` set, those servers are used (the tests
create and drop only their own ``dmtest_*`` databases); otherwise private
servers are started for the session, as the demo does. A missing server is a
failure, never a skip.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from dispatchmap.services import EmbeddedMosquitto, EmbeddedPostgres
from dispatchmap.settings import mqtt_host_port
from feeds.topics import Topics

TEMPLATE = f"dmtest_template_{os.getpid()}"


def wait_until(
    predicate: Callable[[], object],
    timeout: float = 10.0,
    interval: float = 0.05,
    message: str = "condition",
) -> object:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {message}")
        time.sleep(interval)


def wait_equal(read: Callable[[], object], expected: object, timeout: float = 10.0) -> None:
    """Poll ``read()`` until it equals ``expected``; the failure shows the last value."""
    last: list[object] = [None]

    def check() -> bool:
        last[0] = read()
        return last[0] == expected

    try:
        wait_until(check, timeout, message=f"{expected!r}")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; last value {last[0]!r}") from None


@pytest.fixture(scope="session")
def pg_admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("DATABASE_URL")
    if url:
        yield url
        return
    with EmbeddedPostgres(tmp_path_factory.mktemp("pg")) as pg:
        yield pg.url


@pytest.fixture(scope="session")
def mqtt_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("MQTT_URL")
    if url:
        yield url
        return
    with EmbeddedMosquitto(tmp_path_factory.mktemp("mqtt")) as mq:
        yield mq.url


@pytest.fixture(scope="session")
def mqtt_hostport(mqtt_url: str) -> tuple[str, int]:
    return mqtt_host_port(mqtt_url)


def _db_url(admin_url: str, name: str) -> str:
    return admin_url.rsplit("/", 1)[0] + "/" + name


def _create(admin_url: str, name: str, template: str | None = None) -> str:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            query += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        conn.execute(query)
    return _db_url(admin_url, name)


def _drop(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture(scope="session")
def template_db(pg_admin_url: str) -> Iterator[str]:
    """A database with every migration applied and the sample city loaded,
    copied (CREATE DATABASE ... TEMPLATE) for each test."""
    from dispatchmap.cli import load_city
    from store.migrate import upgrade

    url = _create(pg_admin_url, TEMPLATE)
    try:
        with psycopg.connect(url) as conn:
            upgrade(conn)
        load_city(url, None, None, 1)
        yield TEMPLATE
    finally:
        _drop(pg_admin_url, TEMPLATE)


@pytest.fixture
def db_url(pg_admin_url: str, template_db: str) -> Iterator[str]:
    """URL of a fresh database of this test's own (migrated, sample city loaded)."""
    name = f"dmtest_{uuid.uuid4().hex[:12]}"
    url = _create(pg_admin_url, name, template_db)
    yield url
    _drop(pg_admin_url, name)


@pytest.fixture
def empty_db_url(pg_admin_url: str) -> Iterator[str]:
    """URL of a fresh, empty database (no migrations)."""
    name = f"dmtest_{uuid.uuid4().hex[:12]}"
    url = _create(pg_admin_url, name)
    yield url
    _drop(pg_admin_url, name)


@pytest.fixture
def conn(db_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(db_url) as connection:
        connection.execute("SET TIME ZONE 'UTC'")
        connection.commit()  # so each `with conn.transaction()` in a test really commits
        yield connection


@pytest.fixture
def topics() -> Topics:
    """A topic layout no other test uses."""
    tag = uuid.uuid4().hex[:8]
    return Topics(prefix=f"t{tag}", owntracks_prefix=f"ot{tag}")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]
