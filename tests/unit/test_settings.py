import pytest
from pydantic import ValidationError

from dispatchmap.settings import DashboardSettings, ServerSettings, TopicSettings, mqtt_host_port


def test_urls_come_from_the_conventional_names(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://x@h/db")
    monkeypatch.setenv("MQTT_URL", "mqtt://broker:1884")
    s = ServerSettings()
    assert s.database_url == "postgresql://x@h/db"
    assert mqtt_host_port(s.mqtt_url) == ("broker", 1884)


def test_mqtt_credentials_are_read_from_the_url():
    from dispatchmap.settings import mqtt_credentials

    assert mqtt_credentials("mqtt://dispatchmap-ingest:p%40ss@broker:1883") == (
        "dispatchmap-ingest",
        "p@ss",
    )
    assert mqtt_credentials("mqtt://broker") is None


def test_bad_values_are_refused(monkeypatch):
    monkeypatch.setenv("MQTT_URL", "http://broker")
    with pytest.raises(ValidationError):
        ServerSettings()
    monkeypatch.setenv("DM_TOPIC_PREFIX", "dm/#")
    with pytest.raises(ValidationError):
        TopicSettings()
    monkeypatch.setenv("DM_DASH_PORT", "70000")
    with pytest.raises(ValidationError):
        DashboardSettings()


def test_defaults(monkeypatch):
    for name in ("DATABASE_URL", "MQTT_URL", "DM_DASH_PORT", "DM_TOPIC_PREFIX"):
        monkeypatch.delenv(name, raising=False)
    assert ServerSettings().database_url is None
    assert DashboardSettings().port == 8050
    assert TopicSettings().prefix == "dm"


def test_a_suggestion_set_goes_stale_after_a_set_age(monkeypatch):
    from dispatchmap.settings import DispatchSettings

    monkeypatch.delenv("DM_DISPATCH_SHOWN_MAX_AGE_S", raising=False)
    assert DispatchSettings().shown_max_age_s == 120.0
    monkeypatch.setenv("DM_DISPATCH_SHOWN_MAX_AGE_S", "45")
    assert DispatchSettings().shown_max_age_s == 45.0
    monkeypatch.setenv("DM_DISPATCH_SHOWN_MAX_AGE_S", "0")
    with pytest.raises(ValidationError):
        DispatchSettings()


def test_jt808_gateway_settings(monkeypatch):
    from dispatchmap.settings import Jt808Settings

    assert Jt808Settings().port == 6808 and Jt808Settings().auth_secret is None
    monkeypatch.setenv("DM_JT808_PORT", "7611")
    monkeypatch.setenv("DM_JT808_AUTH_SECRET", "s3cret")
    assert (Jt808Settings().port, Jt808Settings().auth_secret) == (7611, "s3cret")
    monkeypatch.setenv("DM_JT808_IDLE_S", "0")
    with pytest.raises(ValidationError):
        Jt808Settings()
