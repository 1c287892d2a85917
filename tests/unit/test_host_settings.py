"""Which Host headers the dashboard answers (DM_DASH_ALLOWED_HOSTS)."""

from dashboard.i18n import t
from dispatchmap.settings import DashboardSettings


def test_by_default_the_bound_address_and_localhost_with_the_port():
    names = DashboardSettings(host="127.0.0.1", port=8060).allowed_host_names()
    assert names == {"127.0.0.1:8060", "localhost:8060", "localhost"}
    assert "[::1]:8050" in DashboardSettings(host="::1").allowed_host_names()


def test_configured_names_replace_the_default_and_ignore_case():
    cfg = DashboardSettings(allowed_hosts=" Dispatch.Station.local , dispatch.station.local:8050,")
    assert cfg.allowed_host_names() == {"dispatch.station.local", "dispatch.station.local:8050"}


def test_sign_in_messages_in_chinese():
    assert t("Too many failed sign-ins: try again in {seconds} s.", "zh", seconds=4) == (
        "登录失败次数过多：请 4 秒后再试。"
    )
    assert t("Name: at most {count} characters.", "en", count=128) == (
        "Name: at most 128 characters."
    )
