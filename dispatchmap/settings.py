"""Settings, one class per concern, each read from the environment.

``DATABASE_URL`` and ``MQTT_URL`` keep their conventional names; everything else
carries the ``DM_`` prefix. When either URL is unset, the demo and the tests run
a private server under ``DM_STATE_DIR`` (see :mod:`dispatchmap.services`).
"""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServerSettings(BaseSettings):
    """Where the external servers are; ``None`` means run a private one."""

    model_config = SettingsConfigDict(env_prefix="DM_", extra="ignore")

    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "DM_DATABASE_URL")
    )
    mqtt_url: str | None = Field(
        default=None, validation_alias=AliasChoices("MQTT_URL", "DM_MQTT_URL")
    )
    state_dir: Path = Path(".state")

    @field_validator("mqtt_url")
    @classmethod
    def _mqtt_scheme(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("mqtt", "tcp"):
            raise ValueError("MQTT_URL must look like mqtt://host:port")
        return value


def mqtt_host_port(url: str) -> tuple[str, int]:
    """``mqtt://[user:password@]host:port`` -> ``(host, port)``; port defaults to 1883."""
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 1883


def mqtt_credentials(url: str) -> tuple[str, str | None] | None:
    """``(user, password)`` from ``mqtt://user:password@host``, percent-decoded; None if absent."""
    parts = urlsplit(url)
    if parts.username is None:
        return None
    password = unquote(parts.password) if parts.password is not None else None
    return unquote(parts.username), password


class TopicSettings(BaseSettings):
    """MQTT topic layout. ``prefix`` lets several stations share one broker."""

    model_config = SettingsConfigDict(env_prefix="DM_TOPIC_", extra="ignore")

    prefix: str = "dm"
    owntracks_prefix: str = "owntracks"

    @field_validator("prefix", "owntracks_prefix")
    @classmethod
    def _no_wildcards(cls, value: str) -> str:
        if not value or any(ch in value for ch in "+#") or value.startswith("/"):
            raise ValueError("a topic prefix is non-empty, without + or # or a leading /")
        return value.rstrip("/")


class IngestSettings(BaseSettings):
    """Ingest worker: batching, validation thresholds and the MQTT session."""

    model_config = SettingsConfigDict(env_prefix="DM_INGEST_", extra="ignore")

    client_id: str = "dispatchmap-ingest"
    share_group: str | None = None
    batch_max: int = Field(default=2000, ge=1)
    batch_wait_ms: int = Field(default=100, ge=1)
    queue_max: int = Field(default=20000, ge=1)
    future_tolerance_s: float = Field(default=120.0, ge=0)
    max_age_s: float = Field(default=7 * 86400.0, gt=0)
    max_acc_m: float = Field(default=500.0, gt=0)
    jump_min_m: float = Field(default=150.0, ge=0)
    # "min_lon,min_lat,max_lon,max_lat"; unset: the loaded city's extent plus area_margin_deg.
    area: str | None = None
    area_margin_deg: float = Field(default=0.05, ge=0)
    metrics_port: int = Field(default=9108, ge=0, le=65535)  # 0: no /metrics endpoint

    @field_validator("area")
    @classmethod
    def _bbox(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = [float(p) for p in value.split(",")]
        ok = len(parts) == 4 and parts[0] < parts[2] and parts[1] < parts[3]
        if not ok or not (
            parts[0] >= -180 and parts[2] <= 180 and parts[1] >= -90 and parts[3] <= 90
        ):
            raise ValueError("area is min_lon,min_lat,max_lon,max_lat in WGS84 degrees")
        return value

    def bbox(self) -> tuple[float, float, float, float] | None:
        """The configured area as (min_lon, min_lat, max_lon, max_lat), or None."""
        if self.area is None:
            return None
        a, b, c, d = (float(p) for p in self.area.split(","))
        return a, b, c, d


class PresenceSettings(BaseSettings):
    """Seconds since the last fix after which a unit is stale, then offline."""

    model_config = SettingsConfigDict(env_prefix="DM_PRESENCE_", extra="ignore")

    stale_s: float = Field(default=60.0, gt=0)
    offline_s: float = Field(default=600.0, gt=0)


class DashboardSettings(BaseSettings):
    """The Dash server and what its pages show."""

    model_config = SettingsConfigDict(env_prefix="DM_DASH_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8050, ge=1, le=65535)
    refresh_ms: int = Field(default=1000, ge=200)
    tile_url: str | None = None
    tile_attribution: str = "© OpenStreetMap contributors"
    timezone: str = "Europe/Helsinki"
    language: Literal["en", "zh"] = "en"  # labels of the wall
    demo: bool = False
    demo_login: str | None = None  # shown on the login page under `make demo` only
    session_hours: float = Field(default=12.0, gt=0, le=24 * 7)
    secure_cookies: bool = False  # set behind TLS
    # Local clock times (station time zone) at which shifts change; the wall's
    # response clock and charts cover the shift running now.
    shift_starts: str = "08:00,20:00"
    # The web server: gunicorn with this many worker processes, each with this
    # many threads (and as many database connections); "dev" is Flask's
    # development server, one process, kept as the benchmark's baseline.
    server: Literal["gunicorn", "dev"] = "gunicorn"
    workers: int = Field(default=2, ge=1, le=64)
    threads: int = Field(default=8, ge=1, le=256)
    access_log: bool = True

    @field_validator("shift_starts")
    @classmethod
    def _shift_times(cls, value: str) -> str:
        try:
            starts = _clock_times(value)
        except ValueError:
            raise ValueError("shift_starts is HH:MM[,HH:MM...], e.g. 08:00,20:00") from None
        if not starts or len(set(starts)) != len(starts):
            raise ValueError("shift_starts needs at least one time, each once")
        return value

    def shift_start_times(self) -> tuple[time, ...]:
        """The configured shift changes as local clock times, earliest first."""
        return tuple(sorted(_clock_times(self.shift_starts)))


def _clock_times(text: str) -> list[time]:
    """``"08:00,20:00"`` -> [08:00, 20:00]; ValueError on anything else."""
    out = []
    for part in text.split(","):
        hh, mm = part.strip().split(":")
        if len(hh) != 2 or len(mm) != 2:
            raise ValueError(part)
        out.append(time(int(hh), int(mm)))
    return out


class SimulatorSettings(BaseSettings):
    """Defaults of ``dispatchmap simulate``; the command line overrides them."""

    model_config = SettingsConfigDict(env_prefix="DM_SIM_", extra="ignore")

    seed: int = 1
    rate_hz: float = Field(default=1.0, gt=0)
    speedup: float = Field(default=1.0, gt=0)
    units: int | None = Field(default=None, ge=1)


class DispatchSettings(BaseSettings):
    """The dispatch worker's timers (seconds) and suggestion rules."""

    model_config = SettingsConfigDict(env_prefix="DM_DISPATCH_", extra="ignore")

    client_id: str = "dispatchmap-dispatcher"
    # A standby dispatcher asks for the dispatcher lock this often (seconds):
    # it takes over within about this long after the active one dies.
    standby_poll_s: float = Field(default=1.0, gt=0, le=10)
    ack_s: float = Field(default=30.0, gt=0)
    enroute_s: float = Field(default=120.0, gt=0)
    onscene_p12_s: float = Field(default=300.0, gt=0)
    onscene_p34_s: float = Field(default=600.0, gt=0)
    feedback_s: float = Field(default=1800.0, gt=0)
    queue_p12_s: float = Field(default=60.0, gt=0)
    queue_p34_s: float = Field(default=300.0, gt=0)
    # An available unit outside its home beat this long raises an alarm; 0: never.
    outside_beat_s: float = Field(default=300.0, ge=0)
    arrival_radius_m: float = Field(default=50.0, gt=0)
    max_fix_age_s: float = Field(default=300.0, gt=0)
    tick_s: float = Field(default=1.0, gt=0)
    # Road coverage: what available vehicles reach within this many seconds.
    coverage_target_s: float = Field(default=300.0, gt=0)
    # A suggestion set shown longer ago than this is stale: a dispatch from it
    # is an override (DM_DISPATCH_SHOWN_MAX_AGE_S). The desk renews the set
    # it still shows at half this age.
    shown_max_age_s: float = Field(default=120.0, gt=0)


class Jt808Settings(BaseSettings):
    """The JT/T 808 gateway (``dispatchmap jt808-gateway``). ``auth_secret``
    signs the authentication codes it hands out; unset, a random one is drawn
    at start, and terminals register again after a restart."""

    model_config = SettingsConfigDict(env_prefix="DM_JT808_", extra="ignore")

    host: str = "0.0.0.0"
    port: int = Field(default=6808, ge=0, le=65535)
    auth_secret: str | None = None
    client_id: str = "dispatchmap-jt808"
    idle_s: float = Field(default=180.0, gt=0)
    auth_s: float = Field(default=30.0, gt=0)
    max_connections: int = Field(default=20000, ge=1)
