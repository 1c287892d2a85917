"""Numbered SQL migrations from ``store/schema/NNN_name.sql``.

``upgrade(conn)`` applies the files not yet recorded in ``schema_migrations``,
in number order, in one transaction. Around them it creates the programs'
roles if missing and re-grants their rights (:mod:`store.roles`). An applied
file is never edited: its checksum is recorded and a mismatch is an error,
not a silent skip.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

import psycopg

from store import roles, statements

_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")

_sql = statements.loader("migrate")


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
    for entry in resources.files("store").joinpath("schema").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    return sorted(found, key=lambda m: m.version)


def create_ledger(conn: psycopg.Connection) -> None:
    """The table of applied migrations, if missing."""
    conn.execute(_sql("create_ledger"))


def applied_migrations(conn: psycopg.Connection) -> dict[int, str]:
    """Version -> sha256 of what this database has applied (the ledger must exist)."""
    rows = conn.execute(_sql("applied_migrations")).fetchall()
    return {int(v): str(s) for v, s in rows}


def lock_upgrade(conn: psycopg.Connection) -> None:
    """Wait until no other upgrader runs; held until the transaction ends."""
    conn.execute(_sql("lock_upgrade"))


def record_migration(conn: psycopg.Connection, migration: Migration) -> None:
    """Note ``migration`` as applied, with its checksum."""
    params = {"version": migration.version, "name": migration.name, "sha256": migration.sha256}
    conn.execute(_sql("record_migration"), params)


def applied(conn: psycopg.Connection) -> dict[int, str]:
    """Version -> sha256 of what this database has applied."""
    create_ledger(conn)
    return applied_migrations(conn)


def upgrade(conn: psycopg.Connection) -> list[Migration]:
    """Apply what is missing; return what was applied now (empty when up to
    date). The program roles' rights are granted afresh either way."""
    with conn.transaction():
        lock_upgrade(conn)
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
            record_migration(conn, migration)
        roles.grant_program_roles(conn)
    return todo
