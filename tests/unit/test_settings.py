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


def test_mqtts_urls_default_to_8883_and_need_a_readable_ca_file(monkeypatch, tmp_path):
    monkeypatch.setenv("MQTT_URL", "mqtts://dispatchmap-ingest-1:pw@broker")
    monkeypatch.setenv("DM_MQTT_CA_FILE", str(tmp_path / "missing.crt"))
    with pytest.raises(ValidationError, match="DM_MQTT_CA_FILE"):
        ServerSettings()
    (tmp_path / "ca.crt").write_text("")
    monkeypatch.setenv("DM_MQTT_CA_FILE", str(tmp_path / "ca.crt"))
    s = ServerSettings()
    assert mqtt_host_port(s.mqtt_url) == ("broker", 8883)
    assert s.mqtt_ca_file == tmp_path / "ca.crt"


def test_service_client_ids_default_to_the_mqtt_user():
    from dispatchmap.settings import mqtt_client_id

    url = "mqtt://dispatchmap-ingest-2:pw@127.0.0.1"
    assert mqtt_client_id(None, url, "dispatchmap-ingest") == "dispatchmap-ingest-2"
    assert mqtt_client_id("mine", url, "dispatchmap-ingest") == "mine"
    assert mqtt_client_id(None, "mqtt://127.0.0.1", "dispatchmap-ingest") == "dispatchmap-ingest"


def test_each_program_connects_as_its_role_unless_given_its_own_url(monkeypatch):
    from psycopg.conninfo import conninfo_to_dict

    from dispatchmap.commands import program_database_url

    monkeypatch.setenv("DATABASE_URL", "postgresql://owner:owner%20secret@db.station:5433/dm")
    monkeypatch.setenv("DM_DISPATCH_DB_PASSWORD", "p@ss word")
    monkeypatch.setenv("DM_DASH_DATABASE_URL", "postgresql://replica-user@replica/dm")
    assert program_database_url("ingest") == "postgresql://dm_ingest@db.station:5433/dm"
    assert (
        program_database_url("dispatcher")
        == "postgresql://dm_dispatcher:p%40ss%20word@db.station:5433/dm"
    )
    assert program_database_url("dashboard") == "postgresql://replica-user@replica/dm"
    monkeypatch.setenv("DATABASE_URL", "host=db.station dbname=dm user=owner password=x")
    keywords = conninfo_to_dict(program_database_url("ingest"))
    assert keywords == {"host": "db.station", "dbname": "dm", "user": "dm_ingest"}
