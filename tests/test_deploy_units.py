"""deploy/systemd: every unit passes ``systemd-analyze verify``, and each
unit's own command line, with the environment files deploy/make_env.py
writes, does its program's job against a real PostGIS and a broker running
the production configuration: the ingest workers store a fix, the
dispatcher takes the lock, the dashboard answers /healthz (also after the
unit's reload), and the daily oneshots run."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
import psycopg
import pytest

from dispatchmap.services import ProductionMosquitto, free_port, wait_for_port
from feeds.broker_auth import read_credentials, read_roster, write_broker_auth
from feeds.topics import Topics
from tests.conftest import wait_until
from tests.deployment import (
    DEPLOY,
    INSTALLED_BIN,
    REPO,
    UNITS,
    VENV_BIN,
    command_line,
    unit_environment,
    unit_service,
)

ALLOWED_HOST = "wall.station.test"
LONG_RUNNING = ["dispatchmap-ingest@.service", "dispatchmap-dispatcher.service"]
LONG_RUNNING += ["dispatchmap-serve.service", "dispatchmap-camera-health.service"]
LONG_RUNNING += ["dispatchmap-relay@.service"]
ONESHOTS = ["dispatchmap-audit-verify.service", "dispatchmap-retention.service"]
ONESHOTS += ["dispatchmap-backup.service"]


@dataclass
class Station:
    etc: Path
    db_url: str
    mqtt_port: int
    credentials: list[dict[str, str]]
    dash_port: int
    folder: Path
    broker: ProductionMosquitto


@pytest.fixture
def station(db_url: str, tmp_path: Path) -> Iterator[Station]:
    """A broker from deploy/mosquitto with the roster's users (two ingest
    workers), and /etc/dispatchmap written by deploy/make_env.py for this
    test's database (its owner here is the test cluster's superuser)."""
    roster = read_roster(REPO / "data/helsinki/roster.csv")
    auth = write_broker_auth(roster, tmp_path / "auth", Topics(), ingest_workers=2)
    parts = urlsplit(db_url)
    dash_port = free_port()
    with ProductionMosquitto(tmp_path / "mq", auth) as broker:
        subprocess.run(
            [
                sys.executable,
                str(DEPLOY / "make_env.py"),
                f"--credentials={auth.credentials_csv}",
                f"--out={tmp_path / 'etc'}",
                f"--database=postgresql://{parts.hostname}:{parts.port}{parts.path}",
                f"--owner={parts.username}",
                f"--broker=mqtt://127.0.0.1:{broker.port}",
                "--ingest-workers=2",
                "--metrics-port=0",
                f"--dash-port={dash_port}",
                "--dash-workers=2",
                "--dash-threads=4",
                f"--allowed-hosts={ALLOWED_HOST}",
            ],
            check=True,
            capture_output=True,
        )
        yield Station(
            tmp_path / "etc",
            db_url,
            broker.port,
            read_credentials(auth.credentials_csv),
            dash_port,
            tmp_path,
            broker,
        )


def start(
    station: Station, unit: str, instance: str = "", tag: str = ""
) -> tuple[subprocess.Popen[bytes], Path]:
    """Run ``unit``'s ExecStart as systemd would (its environment only)."""
    env = unit_environment(unit, station.etc, instance, home=str(station.folder))
    if "XDG_RUNTIME_DIR" in env:  # RuntimeDirectory=, made by systemd on a station
        env["XDG_RUNTIME_DIR"] = str(station.folder / "run")
        (station.folder / "run").mkdir(mode=0o700)
    log = station.folder / f"{unit}{instance}{tag}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            command_line(unit, "ExecStart", env, instance),
            env=env,
            cwd=station.folder,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return proc, log


def test_every_unit_passes_systemd_analyze_verify(tmp_path):
    copies = tmp_path / "units"
    copies.mkdir()
    for unit in UNITS.iterdir():
        # The only change: the program the units start is the venv's here.
        (copies / unit.name).write_text(unit.read_text().replace(INSTALLED_BIN, VENV_BIN))
    (copies / "dispatchmap-ingest@1.service").symlink_to("dispatchmap-ingest@.service")
    names = sorted(p.name for p in copies.iterdir())
    assert {*LONG_RUNNING, *ONESHOTS} <= set(names)
    done = subprocess.run(
        ["systemd-analyze", "verify", *(str(copies / n) for n in names)],
        capture_output=True,
        text=True,
        check=False,
    )
    # Any warning (an option systemd 252 ignores, a missing program) fails too.
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_every_service_is_hardened(tmp_path):
    """systemd's own exposure score, offline: 3.2 ("OK") for every service
    and above it fails, so dropping one option (NoNewPrivileges, ProtectSystem,
    PrivateTmp ...: 3.4) from any unit fails."""
    copies = []
    for unit in [*LONG_RUNNING, *ONESHOTS]:
        copy = tmp_path / unit
        copy.write_text((UNITS / unit).read_text().replace(INSTALLED_BIN, VENV_BIN))
        copies.append(str(copy))
    done = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", "--threshold=32", *copies],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr


@pytest.mark.parametrize("unit", LONG_RUNNING + ONESHOTS)
def test_each_unit_runs_as_its_own_user_with_its_state_paths_only(unit):
    service = unit_service(unit)
    # The jobs that hold the owner's password are another user than the services.
    user = "dispatchmap" if unit in LONG_RUNNING else "dispatchmap-admin"
    assert service["User"] == [user] and service["NoNewPrivileges"] == ["true"]
    assert service["ProtectSystem"] == ["strict"] and service["PrivateTmp"] == ["true"]
    assert all(p.startswith("/etc/dispatchmap/") for p in service["EnvironmentFile"])
    if unit in LONG_RUNNING:
        assert service["Restart"] in (["always"], ["on-failure"]) and service["RestartSec"]


def test_the_environment_files_are_private(station):
    written = sorted(p.name for p in station.etc.iterdir())
    assert written == [
        "dispatcher.env",
        "ingest-1.env",
        "ingest-2.env",
        "ingest.env",
        "owner-password.sql",
        "owner.env",
        "serve.env",
    ]
    for path in station.etc.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    owner = (station.etc / "owner.env").read_text()
    # A program's file holds its own role's password, never the owner's.
    secret = next(
        line.split("=", 1)[1] for line in owner.splitlines() if line.startswith("PGPASSWORD=")
    )
    for name in ("ingest.env", "ingest-1.env", "dispatcher.env", "serve.env"):
        assert secret not in (station.etc / name).read_text()


def publish_fix(station: Station, device: str) -> None:
    """One native fix from ``device`` with its own broker credentials."""
    row = next(r for r in station.credentials if r["username"] == device)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=device)
    client.username_pw_set(device, row["password"])
    client.connect("127.0.0.1", station.mqtt_port)
    client.loop_start()
    try:
        fix = {"lat": 60.1699, "lon": 24.9384, "ts": datetime.now(UTC).isoformat()}
        client.publish(f"dm/gps/{device}", json.dumps(fix), qos=1).wait_for_publish(10)
    finally:
        client.loop_stop()
        client.disconnect()


def healthz(port: int) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/healthz", headers={"Host": ALLOWED_HOST})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def dispatcher_holds_the_lock(db_url: str) -> bool:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
            " WHERE l.locktype = 'advisory' AND l.granted AND a.usename = 'dm_dispatcher'"
            " AND a.datname = current_database()"
        ).fetchone()
    return row is not None and row[0] == 1


def test_the_units_command_lines_run_the_programs(station):
    running = [start(station, "dispatchmap-ingest@.service", n) for n in ("1", "2")]
    running.append(start(station, "dispatchmap-dispatcher.service"))
    serve, serve_log = start(station, "dispatchmap-serve.service")
    running.append((serve, serve_log))
    try:
        for _, log in running[:2]:
            wait_until(lambda log=log: "ingest running" in log.read_text(), 60, message=str(log))
        publish_fix(station, "trk-c01")
        with psycopg.connect(station.db_url) as conn:
            wait_until(
                lambda: (
                    conn.execute(
                        "SELECT count(*) FROM positions WHERE device_id = 'trk-c01'"
                    ).fetchone()
                    == (1,)
                ),
                30,
                message="the fix stored",
            )
        wait_until(lambda: dispatcher_holds_the_lock(station.db_url), 60, message="the lock")
        wait_for_port(station.dash_port, 60, serve)
        assert healthz(station.dash_port) == (200, b"ok")
        assert len(workers_of(serve.pid)) == 2  # serve.env's DM_DASH_WORKERS
        # gunicorn's control socket is in the unit's RuntimeDirectory.
        assert (station.folder / "run/gunicorn.ctl").is_socket()
        # ExecReload: SIGHUP to the main process; gunicorn replaces its
        # workers and keeps answering.
        env = unit_environment("dispatchmap-serve.service", station.etc)
        before = workers_of(serve.pid)
        reload = command_line(
            "dispatchmap-serve.service", "ExecReload", env, MAINPID=str(serve.pid)
        )
        subprocess.run(reload, check=True)
        wait_until(lambda: workers_of(serve.pid).isdisjoint(before), 60, message="new workers")
        assert healthz(station.dash_port) == (200, b"ok")
    finally:
        for proc, _ in running:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        codes = [(proc.wait(30), log) for proc, log in running]
    assert [code for code, _ in codes] == [0] * len(running), [
        log.read_text()[-2000:] for code, log in codes if code
    ]
    # Each worker kept its one session: two workers as one broker user would
    # throw each other off (use_username_as_clientid) and reconnect.
    for _, log in running[:2]:
        assert log.read_text().count("connected to broker") == 1, log.read_text()


def test_each_ingest_instance_is_its_own_broker_user(station):
    users = {
        urlsplit(
            unit_environment("dispatchmap-ingest@.service", station.etc, n)["MQTT_URL"]
        ).username
        for n in ("1", "2")
    }
    assert users == {"dispatchmap-ingest-1", "dispatchmap-ingest-2"}


def workers_of(pid: int) -> set[int]:
    return {int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}


def test_the_daily_oneshots_run(station, tmp_path):
    for unit in ONESHOTS:
        env = unit_environment(unit, station.etc, home=str(tmp_path))
        if "DM_BACKUP_DIR" in env:
            env["DM_BACKUP_DIR"] = str(tmp_path)  # /var/backups/dispatchmap on a station
        done = subprocess.run(
            command_line(unit, "ExecStart", env), env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, (unit, done.stdout, done.stderr)
    (dump,) = tmp_path.glob("dispatchmap-*.dump")
    listing = subprocess.run(
        [shutil.which("pg_restore") or "pg_restore", "--list", str(dump)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "TABLE DATA public events" in listing.stdout
    assert os.path.getsize(dump) > 0


def test_two_dispatcher_units_run_one_active_one_standing_by(station):
    """As on two hosts: one takes the lock, the other waits; when the active
    one is stopped (systemctl stop: SIGTERM), the standby takes over."""
    unit = "dispatchmap-dispatcher.service"
    first = start(station, unit, tag="-a")
    second = None
    try:
        wait_until(lambda: "dispatcher active" in first[1].read_text(), 60, message="active")
        second = start(station, unit, tag="-b")
        wait_until(lambda: "standing by" in second[1].read_text(), 60, message="standby")
        assert dispatcher_holds_the_lock(station.db_url)
        assert "dispatcher active" not in second[1].read_text()
        first[0].send_signal(signal.SIGTERM)
        assert first[0].wait(30) == 0
        wait_until(lambda: "dispatcher active" in second[1].read_text(), 30, message="takeover")
        assert dispatcher_holds_the_lock(station.db_url)
    finally:
        for proc, _ in [first] + ([second] if second else []):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(30)


def test_a_second_dispatcher_host_reaches_the_broker_over_tls(tmp_path):
    """make_env.py for the standby dispatcher's host (deploy/README.md,
    "The services"): the broker over mqtts:// with the station's CA."""
    auth = write_broker_auth(read_roster(REPO / "data/helsinki/roster.csv"), tmp_path / "a")
    ca = tmp_path / "ca.crt"
    ca.write_text("not read here\n")
    subprocess.run(
        [
            sys.executable,
            str(DEPLOY / "make_env.py"),
            f"--credentials={auth.credentials_csv}",
            f"--out={tmp_path / 'etc'}",
            "--database=postgresql://db.station.test:5432/dispatchmap",
            "--broker=mqtts://broker.station.test:8883",
            f"--mqtt-ca-file={ca}",
            f"--allowed-hosts={ALLOWED_HOST}",
        ],
        check=True,
        capture_output=True,
    )
    env = unit_environment("dispatchmap-dispatcher.service", tmp_path / "etc")
    assert env["DM_MQTT_CA_FILE"] == str(ca)
    url = urlsplit(env["MQTT_URL"])
    assert (url.scheme, url.hostname, url.port, url.username) == (
        "mqtts",
        "broker.station.test",
        8883,
        "dispatchmap-dispatch",
    )
    assert urlsplit(env["DM_DISPATCH_DATABASE_URL"]).hostname == "db.station.test"
