"""User and wall-token administration against the real database, and the
server refusing admin actions to other roles."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from dashboard.app import create_app
from dispatchmap.settings import DashboardSettings, PresenceSettings
from geo.access import AccessError, new_user_errors
from store.db import open_pool
from usecases import access, admin

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PASSWORD = "a long test password"
HOUR = timedelta(hours=1)


def audit_of(conn, action):
    return conn.execute(
        "SELECT actor, ok, detail FROM audit_log WHERE action = %s ORDER BY id", (action,)
    ).fetchall()


def test_disabling_ends_sessions_and_refuses_login_until_enabled(conn):
    with conn.transaction():
        access.add_user(conn, "boss", "admin", PASSWORD)
        access.add_user(conn, "carol", "dispatcher", PASSWORD)
        token, _ = access.login(conn, "carol", PASSWORD, NOW, HOUR)
        admin.set_disabled(conn, "boss", "carol", True, NOW, "127.0.0.1")
    assert access.session_user(conn, token, NOW + timedelta(minutes=1)) is None
    assert access.login(conn, "carol", PASSWORD, NOW, HOUR) is None
    with conn.transaction():
        admin.set_disabled(conn, "boss", "carol", False, NOW)
    assert access.session_user(conn, token, NOW) is None  # an ended session stays ended
    assert access.login(conn, "carol", PASSWORD, NOW, HOUR) is not None
    carol = next(u for u in admin.user_list(conn) if u["name"] == "carol")
    assert carol["active"] and carol["last_login_at"] == NOW
    disabled = audit_of(conn, "disable_user")
    assert disabled == [("boss", True, {"name": "carol", "sessions_ended": 1})]
    assert audit_of(conn, "enable_user") == [("boss", True, {"name": "carol"})]


def test_the_last_active_admin_can_neither_be_disabled_nor_demoted(conn):
    with conn.transaction():
        access.add_user(conn, "boss", "admin", PASSWORD)
    for change in (
        lambda: admin.set_disabled(conn, "boss", "boss", True, NOW),
        lambda: admin.set_role(conn, "boss", "boss", "commander"),
    ):
        with pytest.raises(AccessError, match="last active admin") as refused:
            change()
        assert refused.value.field == "user"
    assert [(u["role"], u["active"]) for u in admin.user_list(conn)] == [("admin", True)]
    with conn.transaction():
        access.add_user(conn, "deputy", "admin", PASSWORD)
        admin.set_role(conn, "boss", "boss", "commander")  # another admin is left
    with pytest.raises(AccessError, match="last active admin"):
        admin.set_disabled(conn, "boss", "deputy", True, NOW)
    refusals = [(a, ok, d.get("refused")) for a, ok, d in audit_of(conn, "disable_user")]
    assert refusals == [
        ("boss", False, "boss is the last active admin"),
        ("boss", False, "deputy is the last active admin"),
    ]


def test_roles_passwords_and_unknown_users(conn):
    with conn.transaction():
        access.add_user(conn, "boss", "admin", PASSWORD)
        access.add_user(conn, "dan", "dispatcher", PASSWORD)
        token, _ = access.login(conn, "dan", PASSWORD, NOW, HOUR)
        admin.set_role(conn, "boss", "dan", "commander")
    assert access.session_user(conn, token, NOW).role == "commander"  # at once, same session
    with pytest.raises(AccessError, match="role must be") as bad_role:
        admin.set_role(conn, "boss", "dan", "god")
    assert bad_role.value.field == "role"
    with pytest.raises(AccessError, match="at least 12") as short:
        admin.reset_password(conn, "boss", "dan", "short pw", NOW)
    assert short.value.field == "password"
    with pytest.raises(AccessError, match="no user nobody"):
        admin.set_role(conn, "boss", "nobody", "wall")
    with conn.transaction():
        admin.reset_password(conn, "boss", "dan", "a brand new password", NOW)
    assert access.session_user(conn, token, NOW) is None
    assert access.login(conn, "dan", PASSWORD, NOW, HOUR) is None
    assert access.login(conn, "dan", "a brand new password", NOW, HOUR) is not None
    resets = audit_of(conn, "reset_password")
    assert [ok for _, ok, _ in resets] == [False, True]
    assert "brand new" not in json.dumps([d for *_, d in resets])


def test_new_user_fields_are_checked_each(conn):
    assert new_user_errors("ok.name_1", "wall", "twelve chars") == {}
    errors = new_user_errors("bad name!", "god", "short")
    assert set(errors) == {"name", "role", "password"}
    assert new_user_errors("张伟", "dispatcher", "x" * 12) == {}
    assert "name" in new_user_errors("_hidden", "wall", "x" * 12)
    assert "password" in new_user_errors("ok", "wall", "x" * 11)
    with conn.transaction():
        admin.create_user(conn, "boss", "erin", "reviewer", PASSWORD, None)
    with pytest.raises(AccessError, match="exists") as taken:
        admin.create_user(conn, "boss", "erin", "reviewer", PASSWORD, None)
    assert taken.value.field == "name"
    assert [ok for _, ok, _ in audit_of(conn, "add_user")] == [True, False]


def test_revoked_wall_token_is_refused_and_use_is_noted(conn):
    with conn.transaction():
        token = access.add_wall_token(conn, "screen 1", "boss")
        other = access.add_wall_token(conn, "screen 2", "boss")
    (first, second) = sorted(admin.wall_token_list(conn), key=lambda t: t["label"])
    assert first["last_used_at"] is None and first["revoked_at"] is None
    assert access.wall_token_valid(conn, token, NOW)
    assert access.wall_token_valid(conn, token, NOW + timedelta(seconds=30))
    used = {t["label"]: t["last_used_at"] for t in admin.wall_token_list(conn)}
    assert used == {"screen 1": NOW, "screen 2": None}  # written at most once a minute
    assert access.wall_token_valid(conn, token, NOW + timedelta(seconds=90))
    with conn.transaction():
        assert admin.revoke_wall_token(conn, "boss", first["id"], NOW) == "screen 1"
    assert not access.wall_token_valid(conn, token, NOW)
    assert access.wall_token_valid(conn, other, NOW)
    with pytest.raises(AccessError, match="no live wall token"):
        admin.revoke_wall_token(conn, "boss", first["id"], NOW)
    with pytest.raises(AccessError, match="label") as no_label:
        access.add_wall_token(conn, "  ", "boss")
    assert no_label.value.field == "label"
    listed = admin.wall_token_list(conn)
    assert [t["label"] for t in listed] == ["screen 2", "screen 1"]  # live ones first
    assert listed[1]["last_used_at"] == NOW + timedelta(seconds=90)
    assert second["id"] != first["id"]
    assert [ok for _, ok, _ in audit_of(conn, "revoke_wall_token")] == [True, False]


def test_audit_rows_filter_by_user_and_action(conn):
    with conn.transaction():
        for actor, action in [("a", "login"), ("b", "login"), ("a", "add_user"), ("a", "login")]:
            access.audit(conn, actor, action, True)
    assert [(r["actor"], r["action"]) for r in admin.audit_rows(conn, "a")] == [
        ("a", "login"),
        ("a", "add_user"),
        ("a", "login"),
    ]
    assert len(admin.audit_rows(conn, None, "login")) == 3
    assert len(admin.audit_rows(conn, "a", "login")) == 2
    assert len(admin.audit_rows(conn, limit=1)) == 1


def _callback(client, body):
    return client.post("/_dash-update-component", json=body, headers={"Origin": "http://localhost"})


ADD_USER = {
    "outputs": [],
    "inputs": [{"id": "admin-add", "property": "n_clicks", "value": 1}],
    "state": [
        {"id": "admin-new-name", "property": "value", "value": "mallory"},
        {"id": "admin-new-role", "property": "value", "value": "admin"},
        {"id": "admin-new-password", "property": "value", "value": "a long test password"},
    ],
    "changedPropIds": ["admin-add.n_clicks"],
}


def test_a_dispatcher_posting_an_admin_action_gets_403_and_an_audit_row(db_url, conn):
    with conn.transaction():
        access.add_user(conn, "dan", "dispatcher", PASSWORD)
    pool = open_pool(db_url, max_size=2)
    try:
        app = create_app(DashboardSettings(), PresenceSettings(), pool)
        output = next(k for k in app.callback_map if "admin-add-message" in k)
        client = app.server.test_client()
        login = {"name": "dan", "password": PASSWORD, "next": "/desk"}
        assert client.post("/login", data=login).status_code == 303
        assert client.get("/admin").status_code == 403  # the page itself
        outputs = [
            dict(zip(("id", "property"), o.rsplit(".", 1), strict=True))
            for o in output.strip(".").split("...")
        ]
        body = {**ADD_USER, "output": output, "outputs": outputs}
        assert _callback(client, body).status_code == 403  # refused before the callback
        unlabelled = {**body, "changedPropIds": []}  # refused by the callback itself
        assert _callback(client, unlabelled).status_code == 403
    finally:
        pool.close()
    refused = conn.execute(
        "SELECT actor, action, detail FROM audit_log WHERE NOT ok ORDER BY id"
    ).fetchall()
    assert refused == [
        ("dan", "manage_users", {"right": "manage_users"}),
        ("dan", "manage_users", {"right": "manage_users"}),
    ]
    names = [r[0] for r in conn.execute("SELECT name FROM users ORDER BY name")]
    assert names == ["dan"]
