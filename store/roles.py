"""The database roles the programs connect as, and what each may do.

``dispatchmap db upgrade`` runs as the database's owner: it creates the three
login roles (cluster-wide, idempotent), applies the migrations, then grants
each role the rights its program's queries need
(``store/sql/roles/grant_program_roles.sql``). The logs (``events``,
``audit_log``) are INSERT and SELECT only for every role; the programs own
nothing, so they cannot alter tables or triggers.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from store import statements

_sql = statements.loader("roles")

ROLES = {"ingest": "dm_ingest", "dispatcher": "dm_dispatcher", "dashboard": "dm_dashboard"}
"""Program -> the role it connects as."""


def create_program_roles(conn: psycopg.Connection) -> None:
    """Create the roles that are missing (another database's upgrade may be
    creating them at the same moment: that is not an error). Needs CREATEROLE
    only when one is missing."""
    conn.execute(_sql("create_program_roles"))


def grant_program_roles(conn: psycopg.Connection) -> None:
    """Revoke every right of the program roles in this database, then grant
    what each needs; run after the migrations, as the tables' owner."""
    conn.execute(_sql("grant_program_roles"))


def set_role_password(conn: psycopg.Connection, program: str, password: str) -> None:
    """Set the password of ``program``'s role (a key of ROLES); it is sent as
    a SCRAM-SHA-256 verifier computed here, never as clear text."""
    role = ROLES[program]
    verifier = conn.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256")
    statement = sql.SQL(_sql("set_role_password")).format(
        role=sql.Identifier(role), password=sql.Literal(verifier.decode())
    )
    conn.execute(statement)


def role_url(owner_url: str, program: str, password: str | None = None) -> str:
    """``owner_url`` with ``program``'s role as the user and ``password`` (or
    none: the owner's password is never passed on)."""
    return with_user(owner_url, ROLES[program], password)


def with_user(url: str, user: str, password: str | None = None) -> str:
    """``url`` (``postgresql://`` URL or libpq keyword string, kept in its
    form) connecting as ``user`` with ``password``, or without one."""
    parts = urlsplit(url)
    if parts.scheme in ("postgres", "postgresql"):
        host = parts.netloc.rsplit("@", 1)[-1]
        auth = quote(user, safe="") + (":" + quote(password, safe="") if password else "")
        return urlunsplit(parts._replace(netloc=f"{auth}@{host}"))
    params = {k: v for k, v in conninfo_to_dict(url).items() if k != "password"}
    params["user"] = user
    if password:
        params["password"] = password
    return make_conninfo("", **params)


def database_exists(conn: psycopg.Connection, name: str) -> bool:
    """Whether the server of ``conn`` has a database ``name``."""
    row = conn.execute(_sql("database_exists"), {"name": name}).fetchone()
    return bool(row and row[0])


def create_database(conn: psycopg.Connection, name: str) -> None:
    """Create database ``name`` (``conn`` in autocommit, as a role that may)."""
    conn.execute(sql.SQL(_sql("create_database")).format(name=sql.Identifier(name)))


def role_exists(conn: psycopg.Connection, role: str) -> bool:
    """Whether the cluster has a role ``role``."""
    row = conn.execute(_sql("role_exists"), (role,)).fetchone()
    return bool(row and row[0])


def create_owner_role(conn: psycopg.Connection, owner: str) -> None:
    """Create the login role ``owner`` that will own the project's database."""
    conn.execute(sql.SQL(_sql("create_owner_role")).format(owner=sql.Identifier(owner)))


def create_owned_database(conn: psycopg.Connection, name: str, owner: str) -> None:
    """Create database ``name`` owned by ``owner`` (autocommit, as a superuser)."""
    statement = sql.SQL(_sql("create_owned_database"))
    conn.execute(statement.format(name=sql.Identifier(name), owner=sql.Identifier(owner)))


def alter_database_owner(conn: psycopg.Connection, name: str, owner: str) -> None:
    """Make ``owner`` the owner of the existing database ``name``."""
    statement = sql.SQL(_sql("alter_database_owner"))
    conn.execute(statement.format(name=sql.Identifier(name), owner=sql.Identifier(owner)))


def create_city_extensions(conn: psycopg.Connection) -> None:
    """PostGIS and pgRouting in the database of ``conn`` (they need a superuser)."""
    conn.execute(_sql("create_city_extensions"))


def hand_over_statements(conn: psycopg.Connection, owner: str) -> list[str]:
    """The statements that hand to ``owner`` what an older run left owned by
    the superuser (run each as the superuser)."""
    return [row[0] for row in conn.execute(_sql("hand_over_statements"), {"owner": owner})]
