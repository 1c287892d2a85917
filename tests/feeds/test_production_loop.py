"""The whole dispatch loop on the broker the demo runs: the production
configuration with users and ACL made from the database's roster
(:func:`dispatchmap.runtime.broker`), every program and terminal connected as
its own user; and what that broker refuses."""

from __future__ import annotations

import contextlib
import json
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import psycopg
import pytest

from dispatchmap import runtime
from dispatchmap.settings import ServerSettings, mqtt_host_port
from feeds.broker_auth import DISPATCH_USER, GATEWAY_USER, ingest_user, read_known_passwords
from feeds.topics import Topics
from store import alarms as alarm_store
from store import city as city_store
from store import incidents as incident_store
from tests.conftest import wait_until
from tests.feeds.test_broker_acl import NOT_AUTHORIZED, Probe
from tests.helpers import Inbox, publish_all, publisher, running_dispatcher, running_ingest
from usecases import incidents as inc
from usecases import shown_sets

TOPICS = Topics()  # the layout the ACL was made for
SCENE = (24.9452, 60.1690)


class Broker(NamedTuple):
    host: str
    port: int
    passwords: dict[str, str]
    state_dir: Path

    def creds(self, username: str) -> tuple[str, str]:
        return username, self.passwords[username]


@pytest.fixture
def broker(db_url: str, tmp_path) -> Iterator[Broker]:
    """The demo's private broker for this test's database, as the demo makes it."""
    settings = ServerSettings.model_construct(
        database_url=db_url, mqtt_url=None, state_dir=tmp_path / "state"
    )
    with psycopg.connect(db_url) as conn:
        roster = city_store.roster(conn)
    with contextlib.ExitStack() as stack:
        found = runtime.broker(settings, stack, roster, TOPICS)
        assert found.credentials_csv is not None
        host, port = mqtt_host_port(found.url)
        yield Broker(host, port, read_known_passwords(found.credentials_csv), settings.state_dir)


def fix(lon: float, lat: float, at: datetime) -> bytes:
    return json.dumps({"lat": lat, "lon": lon, "ts": at.isoformat(), "speed_kmh": 20}).encode()


def key(state: str | None = None, **extra: object) -> bytes:
    """A radio's status message: a state key, or e.g. ``emergency=True``."""
    body = {"ts": datetime.now(UTC).isoformat(), **({"state": state} if state else {}), **extra}
    return json.dumps(body).encode()


def one(db_url: str, query: str, *params):
    with psycopg.connect(db_url) as conn:
        return conn.execute(query, params).fetchone()


@contextlib.contextmanager
def services(db_url: str, b: Broker):
    """The ingest (worker 1) and the dispatcher, each as its own broker user."""
    with (
        running_ingest(
            db_url, b.host, b.port, TOPICS, ingest_user(1), credentials=b.creds(ingest_user(1))
        ) as ingest,
        running_dispatcher(
            db_url, b.host, b.port, TOPICS, credentials=b.creds(DISPATCH_USER), ack_s=3600
        ) as dispatcher,
    ):
        yield ingest, dispatcher


def dispatch_first_suggestion(db_url: str, incident_id: int) -> inc.Pick:
    with psycopg.connect(db_url) as conn, conn.transaction():
        now = datetime.now(UTC)
        rules = inc.rules_for(conn, 300)
        row, shown = inc.suggestions_for(conn, inc.load_router(conn), incident_id, rules, now)
        alice = shown_sets.Viewer("desk:alice")
        set_id = shown_sets.record_shown(conn, row, shown, alice, now)
        first = shown.ranked[0]
        pick = inc.Pick(first.unit_id, first.eta_s, first.road_distance_m, 1)
        shown_sets.dispatch_shown(
            conn, set_id, [first.unit_id], alice, now, max_age_s=120, may_override=False
        )
    return pick


def test_demo_broker_files_are_private_and_anonymous_clients_refused(broker):
    folder = broker.state_dir / "broker-auth"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "credentials.csv").stat().st_mode) == 0o600
    assert set(broker.passwords) >= {ingest_user(1), DISPATCH_USER, GATEWAY_USER, "2620101"}
    assert ingest_user(2) not in broker.passwords  # the demo runs one ingest worker
    anon = Probe(broker.port, None, None)
    try:
        assert not anon.accepted() and anon.connack[0].value == NOT_AUTHORIZED
    finally:
        anon.client.disconnect()
        anon.client.loop_stop()


def test_incident_to_cleared_with_every_party_as_its_own_user(db_url, broker):
    t0 = datetime.now(UTC).replace(microsecond=0)
    b = broker
    radio = Inbox(b.host, b.port, TOPICS.orders("U001"), b.creds("2620101"))
    try:
        with (
            services(db_url, b),
            publisher(b.host, b.port, b.creds("trk-c01")) as tracker,
            publisher(b.host, b.port, b.creds(GATEWAY_USER)) as gateway,
            publisher(b.host, b.port, b.creds("2620102")) as other_radio,
        ):
            near = fix(24.9460, 60.1700, t0 - timedelta(seconds=60))
            publish_all(tracker, [(TOPICS.gps("trk-c01"), near)])
            call = {"external_id": "110-4711", "type": "assault", "priority": 1}
            call |= {"lat": SCENE[1], "lon": SCENE[0], "notes": "fight"}
            publish_all(gateway, [(TOPICS.incidents(), json.dumps(call).encode())])
            incident_id = wait_until(lambda: one(db_url, "SELECT id FROM incidents"), 10)[0]
            wait_until(lambda: one(db_url, "SELECT 1 FROM unit_latest WHERE unit_id = 'U001'"))
            assert dispatch_first_suggestion(db_url, incident_id).unit_id == "U001"
            wait_until(lambda: radio.messages, 10, message="the order at U001's radio")
            topic, payload = radio.messages[0]
            order = json.loads(payload)
            assert topic == TOPICS.orders("U001") and order["incident_id"] == incident_id
            ack = {"order_id": order["order_id"], "ts": datetime.now(UTC).isoformat()}
            # The radio answers on its own connection: its user has one session.
            publish_all(
                radio.client,
                [
                    (TOPICS.acks("U001"), json.dumps({**ack, "state": "ack"}).encode()),
                    (TOPICS.status("2620101"), key("enroute")),
                ],
            )
            wait_until(lambda: one(db_url, "SELECT 1 FROM units WHERE status = 'enroute'"))
            at_scene = fix(SCENE[0] + 0.0002, SCENE[1], datetime.now(UTC))
            publish_all(tracker, [(TOPICS.gps("trk-c01"), at_scene)])
            wait_until(
                lambda: one(db_url, "SELECT 1 FROM units WHERE status = 'onscene'"),
                10,
                message="arrival detected from the position",
            )
            publish_all(radio.client, [(TOPICS.status("2620101"), key("clear"))])
            wait_until(
                lambda: one(
                    db_url, "SELECT 1 FROM units WHERE id = 'U001' AND status = 'available'"
                )
            )
            publish_all(other_radio, [(TOPICS.status("2620102"), key(emergency=True))])
            wait_until(
                lambda: one(db_url, "SELECT 1 FROM alarms WHERE kind = 'emergency'"),
                message="the emergency alarm",
            )
    finally:
        radio.close()
    with psycopg.connect(db_url) as conn:
        events = [
            (e["kind"], e["actor"]) for e in incident_store.incident_events(conn, incident_id)
        ]
        emergency = [
            (a["unit_id"], a["severity"])
            for a in alarm_store.open_alarms(conn)
            if a["kind"] == "emergency"
        ]
        refused = conn.execute("SELECT reason FROM quarantine").fetchall()
    assert events == [
        ("created", "110"),
        ("suggestions_shown", "desk:alice"),
        ("dispatched", "desk:alice"),
        ("order_published", "system"),
        ("acknowledged", "unit:U001"),
        ("enroute", "unit:U001"),
        ("onscene", "system"),
        ("cleared", "unit:U001"),
    ]
    assert emergency == [("U002", 1)]
    assert refused == []
    assert radio.messages == [(TOPICS.orders("U001"), payload)]


def test_what_the_production_broker_refuses(db_url, broker):
    b = broker
    now = datetime.now(UTC)
    with services(db_url, b) as (ingest, _dispatcher):
        dropped: list[object] = []
        ingest.session.client.on_disconnect = lambda *args: dropped.append(args)
        # A tracker sending the ingest's client id gets its own session, and
        # may publish only its own fixes.
        thief = Probe(b.port, "trk-c03", b.passwords["trk-c03"], client_id=ingest_user(1))
        try:
            assert thief.accepted()
            forged = thief.publish(TOPICS.gps("trk-c01"), fix(*SCENE, now))
            assert forged.value == NOT_AUTHORIZED
            assert thief.publish(TOPICS.gps("trk-c03"), fix(*SCENE, now)).value == 0
        finally:
            thief.client.disconnect()
            thief.client.loop_stop()
        wait_until(lambda: one(db_url, "SELECT 1 FROM unit_latest WHERE unit_id = 'U003'"))
        assert dropped == [] and ingest.session.client.is_connected()
        assert one(db_url, "SELECT count(*) FROM positions WHERE device_id = 'trk-c01'") == (0,)
        # A phone may not report incidents; the 110 gateway may.
        phone = Probe(b.port, "owntracks/c01/phone", b.passwords["owntracks/c01/phone"])
        try:
            assert phone.accepted()
            call = json.dumps({"type": "assault", "lat": SCENE[1], "lon": SCENE[0]}).encode()
            assert phone.publish(TOPICS.incidents(), call).value == NOT_AUTHORIZED
        finally:
            phone.client.disconnect()
            phone.client.loop_stop()
        with publisher(b.host, b.port, b.creds(GATEWAY_USER)) as gateway:
            publish_all(gateway, [(TOPICS.incidents(), call)])
        incident_id = wait_until(lambda: one(db_url, "SELECT id FROM incidents"))[0]
        assert one(db_url, "SELECT count(*) FROM incidents") == (1,)
        # A radio subscribed to every order receives only its own unit's.
        radio = Probe(b.port, "2620101", b.passwords["2620101"])
        try:
            assert radio.accepted()
            assert [rc.value for rc in radio.subscribe([TOPICS.orders("#")])] == [1]
            for unit_id in ("U002", "U001"):  # U002's order goes out first
                with psycopg.connect(db_url) as conn, conn.transaction():
                    inc.dispatch_units(conn, incident_id, [inc.Pick(unit_id)], "desk", now)
                wait_until(
                    lambda unit_id=unit_id: one(
                        db_url,
                        "SELECT 1 FROM events WHERE kind = 'order_published' AND unit_id = %s",
                        unit_id,
                    ),
                    message=f"{unit_id}'s order published",
                )
            wait_until(lambda: radio.received, message="U001's order at its radio")
        finally:
            radio.client.disconnect()
            radio.client.loop_stop()
    # The dispatcher sent U002's order before U001's on one connection, and
    # the broker keeps one publisher's order: had it been let through, it
    # would have come first.
    assert [topic for topic, _ in radio.received] == [TOPICS.orders("U001")]


def test_simulator_connects_every_device_as_its_own_user(db_url, broker, tmp_path):
    """`dispatchmap simulate --credentials`: all 40 units' fixes reach PostGIS
    through their own devices' users, 110 calls through the gateway's, and no
    message is left without a device allowed to send it."""
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "MQTT_URL": f"mqtt://{broker.host}:{broker.port}",
    }
    credentials = broker.state_dir / "broker-auth" / "credentials.csv"
    command = [sys.executable, "-m", "dispatchmap.cli", "simulate", "--credentials"]
    command += [str(credentials), "--duration", "4", "--speedup", "5"]
    command += ["--incidents-per-hour", "20000"]
    with services(db_url, broker):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        wait_until(
            lambda: one(db_url, "SELECT count(*) FROM unit_latest")[0] == 40,
            message="all 40 units",
        )
        wait_until(lambda: one(db_url, "SELECT 1 FROM incidents"), message="a simulated call")
    # 40 radios (orders), 24 trackers, 16 foot officers' phones, the gateway.
    assert "81 device connections closed; 0 messages unowned" in done.stderr
