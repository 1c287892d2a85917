"""The production broker's TLS listener, with a CA this test makes: every
program (ingest, dispatcher, simulator) runs over ``mqtts://`` with
``DM_MQTT_CA_FILE``; a client that does not trust the CA, or speaks plain
MQTT to the TLS port, gets nowhere."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import paho.mqtt.client as mqtt
import psycopg
import pytest

from dispatchmap.services import DEPLOY_MOSQUITTO_CONF, ProductionMosquitto, production_config
from dispatchmap.settings import mqtt_tls
from feeds.broker_auth import (
    DISPATCH_USER,
    BrokerAuthPaths,
    ingest_user,
    read_known_passwords,
    write_broker_auth,
)
from feeds.topics import Topics
from store import city as city_store
from tests.conftest import wait_until


class Certs(NamedTuple):
    ca: Path
    cert: Path
    key: Path


def openssl(*args: str) -> None:
    done = subprocess.run(["openssl", *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def make_certs(folder: Path) -> Certs:
    """A CA and a server certificate for 127.0.0.1 it signed (P-256, one day)."""
    folder.mkdir(parents=True, exist_ok=True)
    ca, ca_key = folder / "ca.crt", folder / "ca.key"
    cert, key, csr = folder / "server.crt", folder / "server.key", folder / "server.csr"
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    subj = ["-subj", "/CN=dispatchmap test CA"]
    openssl("req", "-x509", *ec, "-keyout", str(ca_key), "-out", str(ca), "-days", "1", *subj)
    openssl("req", *ec, "-keyout", str(key), "-out", str(csr), "-subj", "/CN=127.0.0.1")
    ext = folder / "server.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    openssl(
        "x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
        "-CAcreateserial", "-out", str(cert), "-days", "1", "-extfile", str(ext),
    )  # fmt: skip
    return Certs(ca, cert, key)


def test_the_tls_listener_is_swapped_with_its_certificates(tmp_path):
    auth = BrokerAuthPaths(tmp_path / "acl", tmp_path / "passwd", tmp_path / "creds.csv")
    mq = ProductionMosquitto(tmp_path, auth, tls=(tmp_path / "c", tmp_path / "s", tmp_path / "k"))
    assert mq.tls is not None
    lines = mq.config().splitlines()
    at = lines.index(f"listener {mq.tls.port} 127.0.0.1")
    assert lines[at + 1 : at + 6] == [
        f"cafile {tmp_path / 'c'}",
        f"certfile {tmp_path / 's'}",
        f"keyfile {tmp_path / 'k'}",
        "tls_version tlsv1.2",
        "use_username_as_clientid true",
    ]
    plain = production_config(DEPLOY_MOSQUITTO_CONF.read_text(), port=1, auth=auth, folder=tmp_path)
    assert "cafile" not in plain and "8883" not in plain  # no TLS asked: the listener goes


def test_mqtts_urls_get_a_context_that_checks_the_broker(tmp_path):
    certs = make_certs(tmp_path)
    assert mqtt_tls("mqtt://127.0.0.1:1883", certs.ca) is None
    context = mqtt_tls("mqtts://u:p@127.0.0.1", certs.ca)
    assert context is not None
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2


class TlsBroker(NamedTuple):
    port: int
    ca: Path
    credentials_csv: Path
    passwords: dict[str, str]

    def url(self, username: str | None = None) -> str:
        user = f"{username}:{self.passwords[username]}@" if username else ""
        return f"mqtts://{user}127.0.0.1:{self.port}"


@pytest.fixture
def tls_broker(db_url: str, tmp_path: Path) -> Iterator[TlsBroker]:
    certs = make_certs(tmp_path / "certs")
    with psycopg.connect(db_url) as conn:
        roster = [{k: str(v or "") for k, v in row.items()} for row in city_store.roster(conn)]
    auth = write_broker_auth(roster, tmp_path / "auth", Topics(), ingest_workers=1)
    with ProductionMosquitto(tmp_path / "broker", auth, tls=certs) as mq:
        assert mq.tls is not None
        passwords = read_known_passwords(auth.credentials_csv)
        yield TlsBroker(mq.tls.port, certs.ca, auth.credentials_csv, passwords)


@contextlib.contextmanager
def program(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """``dispatchmap ARGS`` in the background, stopped with SIGTERM at the end."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dispatchmap.cli", *args], env=env, stdout=out, stderr=out
        )
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0, log.read_text()


def count(db_url: str, query: str) -> int:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(query).fetchone()
    return int(row[0]) if row else 0


def test_every_program_runs_over_tls(db_url, tls_broker, tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DM_")},
        "DATABASE_URL": db_url,
        "DM_MQTT_CA_FILE": str(tls_broker.ca),
        "DM_INGEST_METRICS_PORT": "0",
    }
    ingest_env = {**env, "MQTT_URL": tls_broker.url(ingest_user(1))}
    dispatch_env = {**env, "MQTT_URL": tls_broker.url(DISPATCH_USER)}
    sim = ["simulate", "--credentials", str(tls_broker.credentials_csv), "--duration", "4"]
    sim += ["--speedup", "5", "--incidents-per-hour", "20000"]
    with (
        program(["ingest"], ingest_env, tmp_path / "ingest.log"),
        program(["dispatcher"], dispatch_env, tmp_path / "dispatcher.log"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "dispatchmap.cli", *sim],
            env={**env, "MQTT_URL": tls_broker.url()},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        wait_until(lambda: count(db_url, "SELECT count(*) FROM unit_latest") == 40, 30)
        wait_until(lambda: count(db_url, "SELECT count(*) FROM incidents"), 30)
    assert "81 device connections closed; 0 messages unowned" in done.stderr


def connect_result(port: int, tls: ssl.SSLContext | None, password: str) -> str:
    """How an MQTT connection as the ingest's user ends: ``connected``,
    ``closed`` by the broker, or ``no answer``."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="tls-probe")
    client.username_pw_set(ingest_user(1), password)
    if tls is not None:
        client.tls_set_context(tls)
    client.connect("127.0.0.1", port, keepalive=5)
    try:
        for _ in range(50):  # 50 x 0.1 s select: CONNACK, or the broker hangs up
            if client.loop(0.1) != mqtt.MQTT_ERR_SUCCESS:
                return "closed"
            if client.is_connected():
                return "connected"
        return "no answer"
    finally:
        client.disconnect()


def test_clients_that_do_not_trust_the_ca_or_skip_tls_get_nowhere(tls_broker):
    password = tls_broker.passwords[ingest_user(1)]
    trusting = mqtt_tls(tls_broker.url(), tls_broker.ca)
    assert connect_result(tls_broker.port, trusting, password) == "connected"
    untrusting = mqtt_tls(tls_broker.url(), None)  # the system's CAs only
    assert untrusting is not None
    with (
        socket.create_connection(("127.0.0.1", tls_broker.port), 5) as raw,
        pytest.raises(ssl.SSLCertVerificationError),
    ):
        untrusting.wrap_socket(raw, server_hostname="127.0.0.1")
    assert connect_result(tls_broker.port, None, password) == "closed"
