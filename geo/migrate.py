"""Numbered SQL migrations from ``geo/sql/schema/NNN_name.sql``.

``upgrade(conn)`` applies the files not yet recorded in ``schema_migrations``,
in number order, in one transaction. Around them it creates the programs'
roles if missing and re-grants their rights (:mod:`geo.roles`). An applied
file is never edited: its checksum is recorded and a mismatch is an error,
not a silent skip.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

import psycopg

from geo import roles

_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")

_CREATE_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    sha256      text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
)"""


class MigrationError(RuntimeError):
    """The database and the shipped migrations disagree."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def shipped() -> list[Migration]:
    """The migrations in the package, in version order."""
    found = []
    for entry in resources.files("geo").joinpath("sql/schema").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    return sorted(found, key=lambda m: m.version)


def applied(conn: psycopg.Connection) -> dict[int, str]:
    """Version -> sha256 of what this database has applied."""
    conn.execute(_CREATE_LEDGER)
    rows = conn.execute("SELECT version, sha256 FROM schema_migrations").fetchall()
    return {int(v): str(s) for v, s in rows}


def upgrade(conn: psycopg.Connection) -> list[Migration]:
    """Apply what is missing; return what was applied now (empty when up to
    date). The program roles' rights are granted afresh either way."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(4242001)")  # one upgrader at a time
        done = applied(conn)
        roles.create_program_roles(conn)
        todo = []
        for migration in shipped():
            if migration.version in done:
                if done[migration.version] != migration.sha256:
                    raise MigrationError(
                        f"{migration.version:03d}_{migration.name}.sql was edited after it was "
                        "applied; add a new numbered file instead"
                    )
                continue
            todo.append(migration)
        for migration in todo:
            conn.execute(migration.sql.encode())
            conn.execute(
                "INSERT INTO schema_migrations (version, name, sha256) VALUES (%s, %s, %s)",
                (migration.version, migration.name, migration.sha256),
            )
        roles.grant_program_roles(conn)
    return todo
