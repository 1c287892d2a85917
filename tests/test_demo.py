"""`dispatchmap demo` as a user runs it: it serves the wall, units move through
the broker into PostGIS, and Ctrl-C stops every process it started."""

from __future__ import annotations

import os
import re
import signal
import socket
import stat
import subprocess
import sys
import urllib.request
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg

from dispatchmap.services import free_port
from tests.conftest import wait_until


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def units_with_fixes(db_url: str) -> int:
    try:
        with psycopg.connect(db_url) as conn:
            row = conn.execute("SELECT count(*) FROM unit_latest").fetchone()
            return int(row[0]) if row else 0
    except psycopg.errors.UndefinedTable:
        return 0


def connected_as(db_url: str) -> set[str]:
    """The users connected to ``db_url``'s database now."""
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = current_database()"
        ).fetchall()
    return {r[0] for r in rows}


def simulated_camera(db_url: str) -> str | None:
    """The stream URL of CAM01 once the demo pointed it at its simulator."""
    with psycopg.connect(db_url) as conn:
        row = conn.execute("SELECT stream_url FROM cameras WHERE id = 'CAM01'").fetchone()
    return str(row[0]) if row and str(row[0]).startswith("http://127.0.0.1:") else None


def camera_status(db_url: str) -> str | None:
    with psycopg.connect(db_url) as conn:
        row = conn.execute("SELECT status FROM camera_health WHERE camera_id = 'CAM01'").fetchone()
    return str(row[0]) if row else None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "State:\tZ" not in status.read_text()


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def anonymous_connack(port: int) -> str:
    """The broker's answer to a client with no user name."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="demo-anonymous")
    answers: list[str] = []
    client.on_connect = lambda c, u, flags, rc, props: answers.append(str(rc))
    client.connect("127.0.0.1", port)
    try:
        wait_until(lambda: client.loop(0.1) is not None and answers, message="CONNACK")
    finally:
        client.disconnect()
    return answers[0]


def run_demo(env: dict[str, str], tmp_path: Path) -> tuple[subprocess.Popen[bytes], Path, int]:
    port = free_port()
    log = tmp_path / "demo.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dispatchmap.cli",
                "demo",
                "--port",
                str(port),
                "--speedup",
                "5",
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    wait_until(
        lambda: healthy(f"http://127.0.0.1:{port}/healthz"),
        90,
        0.5,
        message=f"the demo's dashboard (log: {log})",
    )
    return proc, log, port


def stop_demo(proc: subprocess.Popen[bytes], log: Path) -> list[int]:
    proc.send_signal(signal.SIGINT)
    assert proc.wait(30) == 0, log.read_text()
    return [int(p) for p in re.findall(r"started [\w-]+ pid (\d+)", log.read_text())]


def test_demo_on_given_servers_moves_units_and_stops_cleanly(
    empty_db_url, mqtt_url, tmp_path, monkeypatch
):
    env = {
        **os.environ,
        "DATABASE_URL": empty_db_url,
        "MQTT_URL": mqtt_url,
        "DM_TOPIC_PREFIX": f"demo{os.getpid()}",
        "DM_STATE_DIR": str(tmp_path / "state"),
    }
    proc, log, _ = run_demo(env, tmp_path)
    try:
        # Every unit of the roster reports through broker and ingest into PostGIS.
        wait_until(lambda: units_with_fixes(empty_db_url) == 40, 60, 0.5, message="40 units")
        # ingest, dispatcher and dashboard as their roles, not as DATABASE_URL's superuser
        programs = {"dm_ingest", "dm_dispatcher", "dm_dashboard"}
        wait_until(lambda: programs <= connected_as(empty_db_url), 10, message="program roles")
        # The first cameras stream simulated pictures from 127.0.0.1.
        url = wait_until(lambda: simulated_camera(empty_db_url), 30, message="a simulated camera")
        wait_until(lambda: healthy(str(url)), 30, 0.5, message=f"{url} served")
        # ... and the background check finds it online.
        wait_until(lambda: camera_status(empty_db_url) == "online", 60, 0.5, message="CAM01 online")
    finally:
        pids = stop_demo(proc, log)
    assert len(pids) == 6  # ingest, dispatcher, simulate, serve, camera-sim, camera-health
    encoders = [int(p) for p in re.findall(r"encoder started pid (\d+)", log.read_text())]
    assert len(encoders) >= 8  # --video-cameras 8, flapping ones restarted
    assert not any(alive(p) for p in pids + encoders)
    assert not (tmp_path / "state").exists()  # given servers: nothing private was made


def test_demo_without_servers_runs_its_own_and_stops_them(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MQTT_URL")}
    env["DM_STATE_DIR"] = str(tmp_path / "state")
    proc, log, _ = run_demo(env, tmp_path)
    text = log.read_text()
    pg_port = int(re.search(r"private PostgreSQL on port (\d+)", text)[1])  # type: ignore[index]
    mq_port = int(re.search(r"private Mosquitto on port (\d+)", text)[1])  # type: ignore[index]
    try:
        url = f"postgresql://postgres@127.0.0.1:{pg_port}/dispatchmap"
        wait_until(lambda: units_with_fixes(url) >= 30, 60, 0.5, message="units in private db")
        # Its broker runs the production configuration: no anonymous clients,
        # every program and device a user from a private credentials table.
        assert anonymous_connack(mq_port) == "Not authorized"
        credentials = tmp_path / "state" / "broker-auth" / "credentials.csv"
        assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
        with psycopg.connect(url) as conn:
            owner = conn.execute(
                "SELECT pg_get_userbyid(datdba), rolsuper FROM pg_database"
                " JOIN pg_roles ON pg_roles.oid = datdba WHERE datname = current_database()"
            ).fetchone()
        assert owner == ("dispatchmap_owner", False)  # the private database's owner is no superuser
    finally:
        pids = stop_demo(proc, log)
    assert not any(alive(p) for p in pids)
    assert not port_open(pg_port) and not port_open(mq_port)
