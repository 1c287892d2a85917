"""Per-device broker credentials: the generated ACL, and a real Mosquitto enforcing it.

The broker is started from ``deploy/mosquitto/mosquitto.conf`` itself, with
only the listener, file paths, logging and run-as user swapped, so what is
proven here is what production runs.
"""

from __future__ import annotations

import csv
import os
import pwd
import stat
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.reasoncodes import ReasonCode

from dispatchmap.services import EmbeddedMosquitto
from feeds.broker_auth import (
    DISPATCH_USER,
    INGEST_USER,
    BrokerAuthPaths,
    acl_text,
    broker_users,
    device_users,
    read_roster,
    write_broker_auth,
)
from feeds.topics import Topics
from tests.conftest import wait_until

DEPLOY_CONF = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto" / "mosquitto.conf"
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


def test_radio_writes_lip_and_status_and_reads_its_units_orders():
    blocks = acl_blocks(acl_text(broker_users([CAR], TOPICS)))
    assert blocks["2620101"] == [
        "topic write dm/lip/2620101",
        "topic write dm/status/2620101",
        "topic read dm/orders/U001",
    ]


def test_phone_writes_its_owntracks_topic_and_reads_its_commands():
    blocks = acl_blocks(acl_text(broker_users([CAR], TOPICS)))
    assert blocks["owntracks/c01/phone"] == [
        "topic write owntracks/c01/phone",
        "topic read owntracks/c01/phone/cmd",
    ]


def test_services_read_the_feeds_and_write_orders():
    blocks = acl_blocks(acl_text(broker_users([CAR], TOPICS)))
    assert blocks[INGEST_USER] == [f"topic read {f}" for f in TOPICS.subscriptions()]
    assert blocks[DISPATCH_USER] == ["topic write dm/orders/#", "topic read dm/acks/#"]


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
    assert blocks[DISPATCH_USER] == ["topic write st2/orders/#", "topic read st2/acks/#"]


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
    assert set(creds) == {"trk-c01", "2620101", "owntracks/c01/phone", "2620125"} | {
        INGEST_USER,
        DISPATCH_USER,
    }
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


# --- a real broker ----------------------------------------------------------

# Lines of the deploy config that name production paths, ports or accounts.
_SWAPPED = {"listener", "cafile", "certfile", "keyfile", "tls_version", "require_certificate"}
_SWAPPED |= {"password_file", "acl_file", "persistence_location", "pid_file", "log_dest", "user"}


class AuthMosquitto(EmbeddedMosquitto):
    """A private broker running the deploy config against generated auth files."""

    def __init__(self, folder: Path, auth: BrokerAuthPaths) -> None:
        super().__init__(folder)
        self.auth = auth

    def config(self) -> str:
        kept = [
            line
            for line in DEPLOY_CONF.read_text().splitlines()
            if line.strip() and not line.startswith("#") and line.split()[0] not in _SWAPPED
        ]
        # As root, Mosquitto drops to the `mosquitto` account unless told
        # otherwise, and that account cannot read the 0640 root-owned files.
        return "\n".join(
            [
                *kept,
                f"listener {self.port} 127.0.0.1",
                f"password_file {self.auth.password_file}",
                f"acl_file {self.auth.acl_file}",
                f"persistence_location {self.folder}/",
                "log_dest stdout",
                "log_type debug",
                f"user {pwd.getpwuid(os.geteuid()).pw_name}",
                "",
            ]
        )


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, dict[str, str]]]:
    """(port, username -> password) of a broker loaded with the Helsinki roster."""
    roster = DEPLOY_CONF.parents[2] / "data" / "helsinki" / "roster.csv"
    folder = tmp_path_factory.mktemp("mqtt-auth")
    auth = write_broker_auth(read_roster(roster), folder / "auth", TOPICS)
    passwords = {n: row["password"] for n, row in read_credentials(auth.credentials_csv).items()}
    with AuthMosquitto(folder / "broker", auth) as mq:
        yield mq.port, passwords


class Probe:
    """A paho MQTT v5 client that records every answer the broker gives it."""

    def __init__(self, port: int, username: str | None, password: str | None) -> None:
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"probe-{uuid.uuid4().hex[:8]}",
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
    broker: tuple[int, dict[str, str]], username: str | None, password: str | None = None
) -> Iterator[Probe]:
    """A connected probe as ``username`` (its own password unless one is given)."""
    port, passwords = broker
    if username is not None and password is None:
        password = passwords[username]
    client = Probe(port, username, password)
    try:
        yield client
    finally:
        client.client.disconnect()  # first: it wakes the loop thread, so loop_stop is quick
        client.client.loop_stop()


@contextmanager
def ingest(broker: tuple[int, dict[str, str]]) -> Iterator[Probe]:
    """The ingest's account subscribed as a shared-subscription worker would be."""
    with probe(broker, INGEST_USER) as sub:
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
        (INGEST_USER, None, TOPICS.gps("trk-c01")),  # the service account cannot forge fixes
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
