"""Settings, one class per concern, each read from the environment.

``DATABASE_URL`` and ``MQTT_URL`` keep their conventional names; everything else
carries the ``DM_`` prefix. When either URL is unset, the demo and the tests run
a private server under ``DM_STATE_DIR`` (see :mod:`dispatchmap.services`).
"""

from __future__ import annotations

import ssl
from datetime import time
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator
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
    # A streaming replica (hot standby) of DATABASE_URL the dashboard's pages
    # read from while it keeps up (the owner's URL: the dashboard connects as
    # its role there, as on the primary).
    database_read_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_READ_URL", "DM_DATABASE_READ_URL")
    )
    # The CA that signed the broker's certificate, for mqtts:// (unset: the
    # system's trusted CAs).
    mqtt_ca_file: Path | None = None
    state_dir: Path = Path(".state")

    @field_validator("mqtt_url")
    @classmethod
    def _mqtt_scheme(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("mqtt", "tcp", "mqtts"):
            raise ValueError("MQTT_URL must look like mqtt://host:port or mqtts://host:port")
        return value

    @field_validator("mqtt_ca_file")
    @classmethod
    def _ca_readable(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"DM_MQTT_CA_FILE {value} is not a file")
        return value


class ProgramDatabaseSettings(BaseSettings):
    """How ingest, dispatcher and dashboard reach the database: each as its own
    role (store.roles). A program's URL, when set, is used as is; otherwise it is
    ``DATABASE_URL`` with the role as user and the program's password (unset:
    none, for local trust auth). ``dispatchmap db upgrade`` sets each role's
    password from these same settings."""

    model_config = SettingsConfigDict(env_prefix="DM_", extra="ignore")

    ingest_database_url: str | None = None
    dispatch_database_url: str | None = None
    dash_database_url: str | None = None
    ingest_db_password: SecretStr | None = None
    dispatch_db_password: SecretStr | None = None
    dash_db_password: SecretStr | None = None

    def url(self, program: str) -> str | None:
        """The explicit URL of ``program`` (ingest | dispatcher | dashboard), or None."""
        return {
            "ingest": self.ingest_database_url,
            "dispatcher": self.dispatch_database_url,
            "dashboard": self.dash_database_url,
        }[program]

    def password(self, program: str) -> str | None:
        """The password of ``program``'s role, or None."""
        secret = {
            "ingest": self.ingest_db_password,
            "dispatcher": self.dispatch_db_password,
            "dashboard": self.dash_db_password,
        }[program]
        return secret.get_secret_value() if secret is not None else None


def mqtt_host_port(url: str) -> tuple[str, int]:
    """``mqtt[s]://[user:password@]host:port`` -> ``(host, port)``; the port
    defaults to 1883, for ``mqtts://`` (TLS) to 8883."""
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or (8883 if parts.scheme == "mqtts" else 1883)


def mqtt_tls(url: str, ca_file: Path | None = None) -> ssl.SSLContext | None:
    """The TLS context for an ``mqtts://`` URL, None for plain ``mqtt://``.

    The broker's certificate must chain to ``ca_file`` (else to the system's
    CAs) and name the URL's host; TLS 1.2 at least, as the broker demands.
    """
    if urlsplit(url).scheme != "mqtts":
        return None
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def mqtt_credentials(url: str) -> tuple[str, str | None] | None:
    """``(user, password)`` from ``mqtt://user:password@host``, percent-decoded; None if absent."""
    parts = urlsplit(url)
    if parts.username is None:
        return None
    password = unquote(parts.password) if parts.password is not None else None
    return unquote(parts.username), password


def mqtt_client_id(configured: str | None, url: str, fallback: str) -> str:
    """The client id a service connects with: ``configured`` if set, else the
    user name in ``url`` (the id a broker with ``use_username_as_clientid``
    gives the session anyway), else ``fallback``."""
    if configured:
        return configured
    credentials = mqtt_credentials(url)
    return credentials[0] if credentials else fallback


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

    # Unset: the MQTT user name (MQTT_URL's), else "dispatchmap-ingest". The
    # production broker keys sessions by user name whatever is set here.
    client_id: str | None = None
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
    # Feeds (format names, comma separated, e.g. "owntracks") whose every device
    # gives GCJ-02; single devices are marked in the roster (gps_coords).
    gcj02_formats: str = ""

    def gcj02_format_set(self) -> frozenset[str]:
        """``gcj02_formats`` as a set of format names."""
        return frozenset(p.strip() for p in self.gcj02_formats.split(",") if p.strip())

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
    # Host headers answered, "name[:port],...": any other gets 400, so a
    # DNS-rebinding page cannot read the wall. Unset: host:port,
    # localhost:port and bare localhost (what a same-machine client without
    # a port, such as Flask's test client, sends). Set it behind a proxy or
    # when serving on 0.0.0.0.
    allowed_hosts: str | None = None
    # Password checks (argon2id, ~64 MiB each) run at once per process; more: 503.
    login_concurrency: int = Field(default=2, ge=1)
    # Failed sign-ins free per account / per address before the back-off,
    # which starts at login_backoff_s and doubles up to login_backoff_max_s.
    login_account_free_failures: int = Field(default=5, ge=0)
    login_address_free_failures: int = Field(default=20, ge=0)
    login_backoff_s: float = Field(default=1.0, gt=0)
    login_backoff_max_s: float = Field(default=900.0, gt=0)
    # Local clock times (station time zone) at which shifts change; the wall's
    # response clock and charts cover the shift running now.
    shift_starts: str = "08:00,20:00"
    # Untied devices drawn on a map, newest fix first; the rest are counted in
    # the legend (one client inventing 500 device ids must not draw 500 markers).
    untied_shown: int = Field(default=50, ge=1, le=1000)
    # The web server: gunicorn with this many worker processes, each with this
    # many threads (and as many database connections); "dev" is Flask's
    # development server, one process, kept as the benchmark's baseline.
    server: Literal["gunicorn", "dev"] = "gunicorn"
    workers: int = Field(default=2, ge=1, le=64)
    threads: int = Field(default=8, ge=1, le=256)
    access_log: bool = True
    # A replica further behind than this (seconds), or away, is left for the
    # primary: the room never watches old data looking live.
    replica_max_lag_s: float = Field(default=5.0, gt=0)
    # Reverse proxies in front (nginx: 1) whose X-Forwarded-For and
    # X-Forwarded-Proto are believed; 0 believes none, so a client cannot
    # name its own address to the sign-in throttle or the audit log.
    proxy_hops: int = Field(default=0, ge=0, le=5)

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

    def allowed_host_names(self) -> frozenset[str]:
        """The Host header values answered, lower-case (see ``allowed_hosts``)."""
        if self.allowed_hosts:
            return frozenset(h.strip().lower() for h in self.allowed_hosts.split(",") if h.strip())
        bound = f"[{self.host}]" if ":" in self.host else self.host  # an IPv6 address
        return frozenset({f"{bound}:{self.port}".lower(), f"localhost:{self.port}", "localhost"})

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
    # The credentials table of feeds.broker_auth: one connection per device
    # with its own user (a production broker). Unset: one connection as
    # MQTT_URL's user.
    credentials: Path | None = None


class VideoSettings(BaseSettings):
    """Cameras: how often and how patiently ``dispatchmap camera-health``
    checks them (seconds), and how old an HLS stream's newest picture may be
    before it counts as no signal."""

    model_config = SettingsConfigDict(env_prefix="DM_VIDEO_", extra="ignore")

    health_interval_s: float = Field(default=10.0, gt=0)
    health_timeout_s: float = Field(default=3.0, gt=0)
    stale_s: float = Field(default=10.0, gt=0)
    health_parallel: int = Field(default=8, ge=1, le=64)
    # The RTSP relay's HLS URL per camera ({camera_id} replaced), docs/video.md;
    # unset: rtsp:// cameras stay unchecked and cannot be watched.
    rtsp_relay_url: str | None = None
    # Whether a wall token may fetch camera pictures (the wall's screen is in
    # a room the station controls; say so explicitly).
    wall_pictures: bool = False


class DispatchSettings(BaseSettings):
    """The dispatch worker's timers (seconds) and suggestion rules."""

    model_config = SettingsConfigDict(env_prefix="DM_DISPATCH_", extra="ignore")

    client_id: str | None = None  # unset: the MQTT user name, else "dispatchmap-dispatcher"
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
    # A unit busy (meal included) longer than this raises a welfare alarm; 0: never.
    welfare_busy_s: float = Field(default=2700.0, ge=0)
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
