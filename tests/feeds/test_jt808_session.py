"""JT/T 808 terminals through the real gateway, broker, ingest, dispatcher and
database: register, authenticate, report, beat, send a batch and a
sub-packaged batch, press the emergency alarm, reconnect (2019 header), and
send bad frames; positions end up stored for the right unit, bad frames and
bad fixes in quarantine with their raw bytes and reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg

from feeds.decoders import jt808 as j
from geo import quality
from store import quality as stored_quality
from tests.conftest import wait_until
from tests.helpers import running_dispatcher, running_ingest, running_jt808_gateway
from tests.jt808_terminal import Terminal, batch_body, location_body

PHONE = "013912345678"
DEVICE = f"jt808-{PHONE}"
LAT, LON = 60.1690, 24.9452
OPEN_EMERGENCY = "SELECT unit_id FROM alarms WHERE kind = 'emergency' AND cleared_at IS NULL"


def rows(db_url: str, query: str, *params):
    with psycopg.connect(db_url) as conn:
        return conn.execute(query, params).fetchall()


def at(t0: datetime, s: int) -> bytes:
    """A positioned report ``s`` seconds after ``t0``, a few metres further east."""
    return location_body(LAT, LON + s * 1e-5, t0 + timedelta(seconds=s))


def test_terminal_session_through_gateway_broker_and_database(db_url, mqtt_hostport, topics):
    host, port = mqtt_hostport
    rows_ = "INSERT INTO devices (id, unit_id, kind, format) VALUES (%s, 'U003', 'gps', 'jt808')"
    with psycopg.connect(db_url) as conn:
        conn.execute(rows_, (DEVICE,))
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=120)
    with (
        running_ingest(db_url, host, port, topics),
        running_dispatcher(db_url, host, port, topics, ack_s=3600),
        running_jt808_gateway(db_url, host, port, topics) as (gateway, gw_port),
    ):
        stranger = Terminal(gw_port, phone="013900000000")
        refused = stranger.ask(j.REGISTER, bytes(37))
        assert refused.header.msg_id == j.REGISTER_RESPONSE and refused.body[2] == 4
        assert stranger.wait_closed() == b""
        stranger.close()

        t = Terminal(gw_port, PHONE)
        t.login()
        assert t.result(j.LOCATION, at(t0, 0)) == j.OK
        assert t.result(j.HEARTBEAT) == j.OK
        out_of_range = location_body(95.0, LON, t0 + timedelta(seconds=15))
        unpositioned = location_body(LAT, LON, t0 + timedelta(seconds=12), positioned=False)
        batch = batch_body([at(t0, 10), unpositioned, out_of_range, at(t0, 20)])
        assert t.result(j.BATCH, batch) == j.OK
        packaged = batch_body([at(t0, 30), at(t0, 35)])
        t.send(t.frame(j.BATCH, packaged[:30], package=(2, 1)))
        assert t.reply().body[4] == j.OK
        t.send(t.frame(j.BATCH, packaged[30:], package=(2, 2)))
        assert t.reply().body[2:5] == bytes.fromhex("070400")
        good = t.frame(j.LOCATION, at(t0, 40))
        bad_check = good[:-2] + bytes([good[-2] ^ 0x01]) + b"\x7e"
        t.send(bad_check)
        emergency = location_body(LAT, LON + 5e-4, t0 + timedelta(seconds=50), alarm=1)
        assert t.result(j.LOCATION, emergency) == j.OK  # still served after the bad frame
        t.close()
        wait_until(lambda: rows(db_url, OPEN_EMERGENCY) == [("U003",)])  # like a radio's key

        again = Terminal(gw_port, "00000000" + PHONE, version=1)
        again.send(again.frame(j.LOCATION, at(t0, 60)))
        assert again.wait_closed() == b""  # a new connection authenticates first
        again.close()
        again = Terminal(gw_port, "00000000" + PHONE, version=1)
        again.login()
        assert again.result(j.LOCATION, at(t0, 60)) == j.OK
        again.close()

        wait_until(lambda: len(rows(db_url, "SELECT 1 FROM positions")) == 7)
        wait_until(lambda: len(rows(db_url, "SELECT 1 FROM quarantine")) == 3)
        wait_until(lambda: rows(db_url, OPEN_EMERGENCY) == [])  # the next report clears it
    stored = rows(
        db_url,
        "SELECT device_id, unit_id, source, extract(epoch FROM fix_at - %s)::int "
        "FROM positions ORDER BY fix_at",
        t0,
    )
    assert stored == [(DEVICE, "U003", "jt808", s) for s in (0, 10, 20, 30, 35, 50, 60)]
    refused_rows = rows(
        db_url, "SELECT topic, device_id, reason, payload FROM quarantine ORDER BY reason"
    )
    assert [(r[0], r[1], r[2]) for r in refused_rows] == [
        (topics.jt808(PHONE), DEVICE, "bad_checksum"),
        (topics.jt808(PHONE), DEVICE, "no_fix"),
        (topics.jt808(PHONE), DEVICE, "out_of_range"),
    ]
    assert bytes(refused_rows[0][3]) == bad_check  # the raw bytes, as the terminal sent them
    assert j.location(j.parse_frame(bytes(refused_rows[1][3])).body) == j.location(unpositioned)
    assert gateway.active == 0
    with psycopg.connect(db_url) as conn:  # the quality page's figures, by feed and reason
        buckets = stored_quality.feed_buckets(conn, datetime.now(UTC), 3600.0, 3600.0)
    assert {r["reason"]: r["n"] for r in buckets if r["format"] == "jt808"} == {
        None: 7,
        "bad_checksum": 1,
        "no_fix": 1,
        "out_of_range": 1,
    }
    assert quality.payload_text(bad_check)[0] == "hex"
