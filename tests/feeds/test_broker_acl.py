"""Per-device broker credentials: the generated ACL, and a real Mosquitto enforcing it.

The broker is started from ``deploy/mosquitto/mosquitto.conf`` itself, with
only the listener, file paths, logging and run-as user swapped, so what is
proven here is what production runs.
"""

from __future__ import annotations

import csv
import stat
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.reasoncodes import ReasonCode

from dispatchmap.services import DEPLOY_MOSQUITTO_CONF, ProductionMosquitto, production_config
from feeds.broker_auth import (
    DISPATCH_USER,
    GATEWAY_USER,
    JT808_USER,
    BrokerAuthPaths,
    acl_text,
    broker_users,
    device_users,
    ingest_user,
    read_roster,
    write_broker_auth,
)
from feeds.topics import Topics
from tests.conftest import wait_until

DEPLOY_CONF = DEPLOY_MOSQUITTO_CONF
INGEST_USER = ingest_user(1)
TOPICS = Topics()
CAR = {
    "id": "U001",
    "radio_issi": "2620101",
    "gps_device": "trk-c01",
    "phone_device": "owntracks/c01/phone",
}
FOOT = {"id": "U025", "radio_issi": "2620125", "gps_device": "", "phone_device": ""}
NOT_AUTHORIZED = 135  # MQTT v5 reason code "Not authorized" (CONNACK, PUBACK, SUBACK)
BAD_CREDENTIALS = 134  # MQTT v5 CONNACK "Bad user name or password"


def acl_blocks(text: str) -> dict[str, list[str]]:
    """ACL text -> username -> its ``topic`` lines; lines before any user under ''."""
    blocks: dict[str, list[str]] = {"": []}
    user = ""
    for line in text.splitlines():
        if line.startswith("user "):
            user = line.removeprefix("user ")
            blocks[user] = []
        elif line and not line.startswith("#"):
            blocks[user].append(line)
    return blocks


# --- the ACL text -----------------------------------------------------------


def test_tracker_may_write_only_its_own_feeds():
    blocks = acl_blocks(acl_text(broker_users([CAR], TOPICS)))
    assert blocks["trk-c01"] == ["topic write dm/gps/trk-c01", "topic write dm/nmea/trk-c01"]


def test_radio_writes_lip_status_and_its_units_acks_and_reads_its_units_orders():
    blocks = acl_blocks(acl_text(broker_users([CAR], TOPICS)))
    assert blocks["2620101"] == [
        "topic write dm/lip/2620101",
        "topic write dm/status/2620101",
        "topic write dm/acks/U001",
        "topic read dm/orders/U001",
    ]


def test_phone_writes_its_owntracks_topic_and_acks_and_reads_orders_and_commands():
    blocks = acl_blocks(acl_text(broker_users([CAR], TOPICS)))
    assert blocks["owntracks/c01/phone"] == [
        "topic write owntracks/c01/phone",
        "topic write dm/acks/U001",
        "topic read dm/orders/U001",
        "topic read owntracks/c01/phone/cmd",
    ]


def test_service_grants_are_the_workers_own_subscriptions():
    blocks = acl_blocks(acl_text(broker_users([CAR], TOPICS, ingest_workers=3)))
    feeds = [f"topic read {f}" for f in TOPICS.subscriptions()]
    assert [blocks[ingest_user(i)] for i in (1, 2, 3)] == [feeds] * 3
    assert ingest_user(4) not in blocks
    assert blocks[DISPATCH_USER] == [
        "topic write dm/orders/+",
        *[f"topic read {f}" for f in TOPICS.dispatch_subscriptions()],
    ]
    assert blocks[DISPATCH_USER][1:] == [
        "topic read dm/incidents",
        "topic read dm/acks/+",
        "topic read dm/status/+",
    ]
    assert blocks[GATEWAY_USER] == ["topic write dm/incidents"]
    assert blocks[JT808_USER] == ["topic write dm/jt808/+", "topic write dm/status/+"]


def test_no_ingest_workers_is_refused():
    with pytest.raises(ValueError, match="ingest worker"):
        broker_users([CAR], TOPICS, ingest_workers=0)


def test_nothing_is_granted_outside_a_user_block():
    text = acl_text(broker_users([CAR, FOOT], TOPICS))
    assert acl_blocks(text)[""] == []
    assert "pattern" not in text


def test_a_unit_without_tracker_or_phone_gets_only_its_radio():
    users = device_users(FOOT, TOPICS)
    assert [(u.username, u.kind, u.unit_id) for u in users] == [("2620125", "radio", "U025")]


def test_topic_prefixes_come_from_the_topic_layout():
    blocks = acl_blocks(acl_text(broker_users([CAR], Topics("st2", "ot2"))))
    assert blocks["trk-c01"] == ["topic write st2/gps/trk-c01", "topic write st2/nmea/trk-c01"]
    assert blocks["owntracks/c01/phone"][0] == "topic write ot2/c01/phone"
    assert "topic read ot2/+/+" in blocks[INGEST_USER]
    assert blocks[DISPATCH_USER][:2] == ["topic write st2/orders/+", "topic read st2/incidents"]
    assert blocks[GATEWAY_USER] == ["topic write st2/incidents"]


@pytest.mark.parametrize(
    "change",
    [
        {"gps_device": "trk-#"},
        {"gps_device": "trk/c01"},
        {"radio_issi": "26201 01"},
        {"phone_device": "owntracks/c01"},
        {"phone_device": "owntracks/+/phone"},
        {"id": ""},
    ],
)
def test_ids_that_would_widen_a_grant_are_refused(change):
    with pytest.raises(ValueError):
        broker_users([{**CAR, **change}], TOPICS)


def test_a_device_listed_twice_is_refused():
    with pytest.raises(ValueError, match="trk-c01"):
        broker_users([CAR, {**FOOT, "gps_device": "trk-c01"}], TOPICS)


# --- the files --------------------------------------------------------------


def read_credentials(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="") as fh:
        return {row["username"]: row for row in csv.DictReader(fh)}


def test_files_are_private_and_the_password_file_is_hashed(tmp_path):
    paths = write_broker_auth([CAR, FOOT], tmp_path / "auth", TOPICS)
    assert stat.S_IMODE(paths.credentials_csv.stat().st_mode) == 0o600
    assert stat.S_IMODE(paths.password_file.stat().st_mode) == 0o640
    assert stat.S_IMODE(paths.acl_file.stat().st_mode) == 0o640
    creds = read_credentials(paths.credentials_csv)
    services = {ingest_user(i) for i in (1, 2, 3, 4)} | {DISPATCH_USER, GATEWAY_USER, JT808_USER}
    assert set(creds) == {"trk-c01", "2620101", "owntracks/c01/phone", "2620125"} | services
    assert creds["trk-c01"]["write_topics"] == "dm/gps/trk-c01 dm/nmea/trk-c01"
    hashed = paths.password_file.read_text()
    for name, row in creds.items():
        assert len(row["password"]) >= 32
        assert f"{name}:$7$" in hashed  # PBKDF2-SHA512, mosquitto_passwd's format
        assert row["password"] not in hashed


def test_regenerating_keeps_issued_passwords_unless_rotating(tmp_path):
    first = read_credentials(write_broker_auth([CAR], tmp_path, TOPICS).credentials_csv)
    again = read_credentials(write_broker_auth([CAR, FOOT], tmp_path, TOPICS).credentials_csv)
    assert all(again[name]["password"] == row["password"] for name, row in first.items())
    assert "2620125" in again
    rotated_csv = write_broker_auth([CAR], tmp_path, TOPICS, rotate=True).credentials_csv
    rotated = read_credentials(rotated_csv)
    assert all(rotated[name]["password"] != row["password"] for name, row in first.items())


def test_deploy_config_sizes_queues_deliberately():
    settings = dict(
        line.split(None, 1)
        for line in DEPLOY_CONF.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    )
    assert settings["allow_anonymous"] == "false"
    assert int(settings["max_queued_messages"]) > 1000  # Mosquitto's lossy default
    assert int(settings["max_inflight_messages"]) > 2000  # more than one ingest batch


def test_private_config_is_production_with_only_places_swapped(tmp_path):
    auth = BrokerAuthPaths(tmp_path / "acl", tmp_path / "passwd", tmp_path / "creds.csv")
    text = production_config(DEPLOY_CONF.read_text(), port=4321, auth=auth, folder=tmp_path)
    lines = text.splitlines()
    assert lines.count("listener 4321 127.0.0.1") == 1
    # The listener's own option stays under the swapped listener.
    after = lines[lines.index("listener 4321 127.0.0.1") + 1]
    assert after == "use_username_as_clientid true"
    assert f"password_file {auth.password_file}" in lines
    assert f"acl_file {auth.acl_file}" in lines
    assert "allow_anonymous false" in lines and "per_listener_settings false" in lines
    assert not [line for line in lines if "/etc/" in line or "/var/" in line or "/run/" in line]


# --- a real broker ----------------------------------------------------------


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, dict[str, str]]]:
    """(port, username -> password) of a broker loaded with the Helsinki roster."""
    roster = DEPLOY_CONF.parents[2] / "data" / "helsinki" / "roster.csv"
    folder = tmp_path_factory.mktemp("mqtt-auth")
    auth = write_broker_auth(read_roster(roster), folder / "auth", TOPICS)
    passwords = {n: row["password"] for n, row in read_credentials(auth.credentials_csv).items()}
    with ProductionMosquitto(folder / "broker", auth, extra=("log_type debug",)) as mq:
        yield mq.port, passwords


class Probe:
    """A paho MQTT v5 client that records every answer the broker gives it."""

    def __init__(
        self, port: int, username: str | None, password: str | None, client_id: str = ""
    ) -> None:
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id or f"probe-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5,
        )
        if username is not None:
            self.client.username_pw_set(username, password)
        self.connack: list[ReasonCode] = []
        self.pubacks: dict[int, ReasonCode] = {}
        self.subacks: list[list[ReasonCode]] = []
        self.received: list[tuple[str, bytes]] = []
        self.client.on_connect = lambda c, u, flags, rc, props: self.connack.append(rc)
        self.client.on_publish = lambda c, u, mid, rc, props: self.pubacks.__setitem__(mid, rc)
        self.client.on_subscribe = lambda c, u, mid, rcs, props: self.subacks.append(rcs)
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        self.received.append((msg.topic, bytes(msg.payload)))

    def accepted(self) -> bool:
        wait_until(lambda: self.connack, message="CONNACK")
        return not self.connack[0].is_failure

    def subscribe(self, filters: list[str]) -> list[ReasonCode]:
        """Subscribe at QoS 1 and return the SUBACK's reason codes."""
        before = len(self.subacks)
        self.client.subscribe([(f, 1) for f in filters])
        wait_until(lambda: len(self.subacks) > before, message="SUBACK")
        return self.subacks[before]

    def publish(self, topic: str, payload: bytes) -> ReasonCode:
        """Publish at QoS 1 and return the PUBACK's reason code."""
        info = self.client.publish(topic, payload, qos=1)
        wait_until(lambda: info.mid in self.pubacks, message=f"PUBACK for {topic}")
        return self.pubacks[info.mid]


@contextmanager
def probe(
    broker: tuple[int, dict[str, str]],
    username: str | None,
    password: str | None = None,
    client_id: str = "",
) -> Iterator[Probe]:
    """A connected probe as ``username`` (its own password unless one is given)."""
    port, passwords = broker
    if username is not None and password is None:
        password = passwords[username]
    client = Probe(port, username, password, client_id)
    try:
        yield client
    finally:
        client.client.disconnect()  # first: it wakes the loop thread, so loop_stop is quick
        client.client.loop_stop()


@contextmanager
def ingest(broker: tuple[int, dict[str, str]]) -> Iterator[Probe]:
    """The ingest's account subscribed as a shared-subscription worker would
    be, with the client id the ingest uses (its user name)."""
    with probe(broker, INGEST_USER, client_id=INGEST_USER) as sub:
        assert sub.accepted()
        granted = sub.subscribe(TOPICS.subscriptions(share_group="ingest"))
        assert [rc.value for rc in granted] == [1] * len(granted)
        yield sub


def test_tracker_publishes_its_own_feeds(broker):
    with ingest(broker) as sub, probe(broker, "trk-c01") as trk:
        assert trk.accepted()
        assert trk.publish(TOPICS.gps("trk-c01"), b'{"lat":60.17}').value == 0
        assert trk.publish(TOPICS.nmea("trk-c01"), b"$GPRMC").value == 0
        wait_until(lambda: len(sub.received) == 2, message="both fixes at the ingest")
    assert sub.received == [
        ("dm/gps/trk-c01", b'{"lat":60.17}'),
        ("dm/nmea/trk-c01", b"$GPRMC"),
    ]


def test_phone_publishes_its_own_topic(broker):
    with ingest(broker) as sub, probe(broker, "owntracks/c01/phone") as phone:
        assert phone.accepted()
        assert phone.publish(TOPICS.owntracks("owntracks/c01/phone"), b"{}").value == 0
        wait_until(lambda: sub.received, message="the phone's fix at the ingest")
    assert sub.received == [("owntracks/c01/phone", b"{}")]


@pytest.mark.parametrize(
    ("username", "own", "topic"),
    [
        ("trk-c01", TOPICS.gps("trk-c01"), TOPICS.gps("trk-c02")),
        ("trk-c01", TOPICS.gps("trk-c01"), TOPICS.nmea("trk-c02")),
        ("trk-c01", TOPICS.gps("trk-c01"), TOPICS.lip("2620101")),  # its own unit's radio
        ("2620101", TOPICS.lip("2620101"), TOPICS.status("2620102")),
        ("owntracks/c01/phone", "owntracks/c01/phone", "owntracks/c02/phone"),
        # A service account cannot forge fixes (another worker's user: the
        # broker allows one session per user, and ingest() holds worker 1's).
        (ingest_user(2), None, TOPICS.gps("trk-c01")),
        ("owntracks/c01/phone", "owntracks/c01/phone", TOPICS.incidents()),
        ("2620101", TOPICS.lip("2620101"), TOPICS.acks("U002")),
        ("trk-c01", TOPICS.gps("trk-c01"), TOPICS.acks("U001")),  # trackers have no keys
        (GATEWAY_USER, None, TOPICS.orders("U001")),
        (GATEWAY_USER, None, TOPICS.gps("trk-c01")),
    ],
)
def test_a_device_is_refused_on_another_devices_topic(broker, username, own, topic):
    """QoS 1 gets PUBACK 135; QoS 0 is dropped silently. Neither reaches the
    ingest: Mosquitto handles one client's messages in order, so once the
    device's next, allowed, message has arrived, the refused ones never will."""
    with ingest(broker) as sub, probe(broker, username) as dev:
        assert dev.accepted()
        refused = dev.publish(topic, b"forged")
        assert refused.value == NOT_AUTHORIZED
        assert refused.getName() == "Not authorized"
        dev.client.publish(topic, b"forged qos0", qos=0)
        if own is not None:
            assert dev.publish(own, b"marker").value == 0
            wait_until(lambda: (own, b"marker") in sub.received, message="the marker")
    assert [payload for t, payload in sub.received if t == topic] == []


def test_a_wrong_password_is_refused_at_connect(broker):
    with probe(broker, "trk-c01", password="not-the-password") as trk:
        assert not trk.accepted()
        # Mosquitto 2.0.11 answers 135 "Not authorized"; MQTT 5 also allows
        # 134 "Bad user name or password", which other versions may send.
        assert trk.connack[0].value in (NOT_AUTHORIZED, BAD_CREDENTIALS)


def test_an_anonymous_client_is_refused_at_connect(broker):
    with probe(broker, None) as anon:
        assert not anon.accepted()
        assert anon.connack[0].value == NOT_AUTHORIZED


def test_a_radio_receives_its_units_orders_only(broker):
    """Mosquitto 2.0 grants any subscription (SUBACK 1 even for dm/orders/#)
    and checks ``topic read`` on each message it would deliver."""
    with probe(broker, "2620101") as radio, probe(broker, DISPATCH_USER) as dispatch:
        assert radio.accepted() and dispatch.accepted()
        assert [rc.value for rc in radio.subscribe(["dm/orders/#"])] == [1]
        assert dispatch.publish("dm/orders/U002", b"other unit").value == 0
        assert dispatch.publish("dm/orders/U001", b"go").value == 0
        wait_until(lambda: radio.received, message="the order at the radio")
    assert radio.received == [("dm/orders/U001", b"go")]


def test_a_device_using_a_services_client_id_does_not_take_over_its_session(broker):
    """With ``use_username_as_clientid`` the tracker's session is ``trk-c01``
    whatever client id it sends; the ingest stays connected and keeps receiving."""
    port, passwords = broker
    with ingest(broker) as sub:
        thief = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=INGEST_USER, protocol=mqtt.MQTTv5
        )
        thief.username_pw_set("trk-c01", passwords["trk-c01"])
        connack: list[ReasonCode] = []
        thief.on_connect = lambda c, u, flags, rc, props: connack.append(rc)
        thief.connect("127.0.0.1", port)
        thief.loop_start()
        try:
            wait_until(lambda: connack, message="the tracker's CONNACK")
            assert not connack[0].is_failure
            info = thief.publish(TOPICS.gps("trk-c01"), b"after", qos=1)
            info.wait_for_publish(10)
            wait_until(lambda: sub.received, message="the fix at the ingest")
        finally:
            thief.disconnect()
            thief.loop_stop()
        assert sub.client.is_connected() and len(sub.connack) == 1
    assert sub.received == [(TOPICS.gps("trk-c01"), b"after")]


def test_orders_reach_the_units_phone_and_acks_and_incidents_reach_dispatch(broker):
    with (
        probe(broker, DISPATCH_USER) as dispatch,
        probe(broker, "owntracks/c01/phone") as phone,
        probe(broker, GATEWAY_USER) as gateway,
    ):
        assert dispatch.accepted() and phone.accepted() and gateway.accepted()
        dispatch.subscribe(TOPICS.dispatch_subscriptions())
        phone.subscribe([TOPICS.orders("+")])
        assert dispatch.publish(TOPICS.orders("U002"), b"other unit").value == 0
        assert dispatch.publish(TOPICS.orders("U001"), b"go").value == 0
        assert phone.publish(TOPICS.acks("U001"), b"ack").value == 0
        assert gateway.publish(TOPICS.incidents(), b"110").value == 0
        wait_until(lambda: phone.received and len(dispatch.received) == 2, message="all four")
    assert phone.received == [(TOPICS.orders("U001"), b"go")]
    assert dispatch.received == [(TOPICS.acks("U001"), b"ack"), (TOPICS.incidents(), b"110")]
