"""The admin page's builders, as data: no secret shown, one Revoke per live token."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from dashboard import ids
from dashboard.layout import admin as layout
from dispatchmap.settings import DashboardSettings, DispatchSettings, PresenceSettings

TZ = ZoneInfo("Europe/Helsinki")
AT = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def test_tile_url_secrets_are_redacted():
    url = "https://maps:s3cret@tiles.example/{z}/{x}/{y}.png?apikey=abc123&style=dark"
    shown = layout.redact_url(url)
    assert "s3cret" not in shown and "abc123" not in shown and "dark" not in shown
    assert (
        shown == "https://maps:***@tiles.example/{z}/{x}/{y}.png?apikey=%2A%2A%2A&style=%2A%2A%2A"
    )
    assert layout.redact_url("http://127.0.0.1:8080/{z}/{x}/{y}.png") == (
        "http://127.0.0.1:8080/{z}/{x}/{y}.png"
    )


def test_running_settings_show_the_floor_values_and_no_secret():
    dash = DashboardSettings(timezone="Asia/Shanghai", tile_url="http://t/{z}.png?key=k3y")
    rows = dict(
        layout.running_settings(
            dash, PresenceSettings(stale_s=45), DispatchSettings(ack_s=20), "dm@db:5432/dm"
        )
    )
    assert rows["Time zone"] == "Asia/Shanghai"
    assert rows["Stale after (s)"] == "45" and rows["Acknowledge within (s)"] == "20"
    assert rows["Database"] == "dm@db:5432/dm"
    assert not any("k3y" in value for value in rows.values())


def test_only_live_tokens_get_a_revoke_button():
    tokens = [
        {
            "id": 7,
            "label": "left",
            "created_by": "boss",
            "created_at": AT,
            "last_used_at": AT,
            "revoked_at": None,
        },
        {
            "id": 3,
            "label": "old",
            "created_by": "cli",
            "created_at": AT,
            "last_used_at": None,
            "revoked_at": AT,
        },
    ]
    rows = layout.tokens_table(tokens, TZ).children[1].children
    live, revoked = (row.children[-1].children for row in rows)
    assert live.id == {"type": ids.ADMIN_TOKEN_REVOKE, "token": 7}
    assert revoked == "revoked 2026-03-01 12:00"
    assert (
        rows[0].children[3].children == "2026-03-01 12:00" and rows[1].children[3].children == "–"
    )
