"""Users, sessions, wall tokens and the audit log against the real database."""

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from geo.access import AccessError
from store.migrate import upgrade
from usecases import access

NOW = datetime.now(UTC)


def test_login_session_expiry_and_audit(conn):
    with conn.transaction():
        access.add_user(conn, "alice", "dispatcher", "correct horse battery")
    with conn.transaction():
        assert access.login(conn, "alice", "wrong password!", NOW, timedelta(hours=8)) is None
        assert access.login(conn, "mallory", "whatever12345", NOW, timedelta(hours=8)) is None
        token, user = access.login(conn, "alice", "correct horse battery", NOW, timedelta(hours=8))
    assert (user.name, user.role) == ("alice", "dispatcher")
    assert user.may("dispatch") and not user.may("manage_users")
    assert access.session_user(conn, token, NOW + timedelta(hours=1)) == user
    assert access.session_user(conn, token, NOW + timedelta(hours=9)) is None  # expired
    assert access.session_user(conn, "forged", NOW) is None
    stored = conn.execute("SELECT password_hash FROM users").fetchone()[0]
    assert stored.startswith("$argon2id$") and "correct" not in stored
    assert conn.execute("SELECT token_sha256 FROM sessions").fetchone()[0] != token
    with conn.transaction():
        access.logout(conn, token, NOW)
    assert access.session_user(conn, token, NOW + timedelta(minutes=1)) is None
    audit = conn.execute("SELECT actor, action, ok FROM audit_log ORDER BY id").fetchall()
    # A name nobody has is kept masked (it may be a password typed as a name).
    mallory = access.masked_name(conn, "mallory")
    assert audit == [
        ("alice", "login", False),
        (mallory, "login", False),
        ("alice", "login", True),
    ]
    assert mallory.startswith("?") and "mallory" not in mallory
    assert mallory == access.masked_name(conn, "mallory") != access.masked_name(conn, "Mallory")


def test_bad_users_are_refused(conn):
    with pytest.raises(AccessError, match="role"):
        access.add_user(conn, "bob", "god", "long enough pw")
    with pytest.raises(AccessError, match="at least 12"):
        access.add_user(conn, "bob", "wall", "short")
    with pytest.raises(AccessError, match="name"):
        access.add_user(conn, "bob; drop", "wall", "long enough pw")
    access.add_user(conn, "bob", "wall", "long enough pw")
    with pytest.raises(AccessError, match="exists"):
        access.add_user(conn, "bob", "wall", "long enough pw")


def test_wall_tokens_and_append_only_audit(conn):
    with conn.transaction():
        token = access.add_wall_token(conn, "command room screen 1", "admin")
    assert access.wall_token_valid(conn, token)
    assert not access.wall_token_valid(conn, token + "x")
    assert not access.wall_token_valid(conn, None)
    with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
        conn.execute("DELETE FROM audit_log")


def test_migrations_apply_on_an_empty_database(empty_db_url):
    with psycopg.connect(empty_db_url) as c:
        assert [m.version for m in upgrade(c)][-1] >= 4
