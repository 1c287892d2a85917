"""A database a benchmark may fill and throw away: on the configured server
(``DATABASE_URL``) or on a private one under a temp folder, dropped (and the
private server stopped) when the benchmark's stack unwinds."""

from __future__ import annotations

import tempfile
import uuid
from contextlib import ExitStack
from pathlib import Path

import psycopg
from psycopg import sql

from dispatchmap.runtime import create_database
from dispatchmap.services import EmbeddedPostgres
from dispatchmap.settings import ServerSettings


def scratch_database(stack: ExitStack, prefix: str) -> str:
    """The URL of a new empty database named ``prefix`` plus a random suffix."""
    admin_url = ServerSettings().database_url
    if admin_url is None:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="dm-bench-")))
        admin_url = stack.enter_context(EmbeddedPostgres(folder / "pg")).url
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    url = create_database(admin_url, name)
    stack.callback(_drop, admin_url, name)
    return url


def _drop(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
