"""The data-quality figures from a known mix of good and faulty messages fed
through the real pipeline and writer: counts and shares per reason, presence,
ages, unknown devices, units without a fix or without any device, feeds, CSV."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from dashboard.app import create_app
from dispatchmap.settings import DashboardSettings, PresenceSettings
from feeds.decoders.lip import encode_short
from feeds.pipeline import Limits, Message, Pipeline
from feeds.simulator import nmea_rmc
from feeds.topics import Topics
from feeds.writer import Writer, ingest_batch
from geo import quality
from store import quality as stored_quality
from store.db import open_pool
from usecases import access

NOW = datetime.now(UTC).replace(microsecond=0)
HOUR_S = 3600.0
STALE_S, OFFLINE_S = 60.0, 600.0


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


def native(device: str, fix_at: datetime, received_s: float, lat=60.170, acc=None) -> Message:
    body = {"lat": lat, "lon": 24.940, "ts": fix_at.isoformat()}
    if acc is not None:
        body["acc_m"] = acc
    return Message(f"dm/gps/{device}", json.dumps(body).encode(), ago(received_s))


def phone(received_s: float, fix_s: float, acc: float, kind: str = "location") -> Message:
    body = {"_type": kind, "lat": 60.169, "lon": 24.941, "tst": int(ago(fix_s).timestamp())}
    body["acc"] = acc
    return Message("owntracks/c03/phone", json.dumps(body).encode(), ago(received_s))


def rmc(fix_at: datetime, received_s: float, break_checksum: bool = False) -> Message:
    payload = nmea_rmc(fix_at, 60.171, 24.942, 20.0, 90.0)
    if break_checksum:
        body, checksum = payload.rstrip().rsplit(b"*", 1)
        payload = body + b"*%02X\r\n" % (int(checksum, 16) ^ 0xFF)
    return Message("dm/nmea/trk-c02", payload, ago(received_s))


def mix() -> list[Message]:
    """In order of arrival; the comment says what the ingest makes of each."""
    good_30 = native("trk-c01", ago(30), 30, acc=10.0)
    return [
        native("trk-c01", ago(7200), 7200, acc=99.0),  # stored, before the hour
        native("trk-c01", ago(600), 600, acc=5.0),  # stored
        phone(700, 700, 8.0),  # stored: c03's phone, offline
        native("trk-c01", ago(300), 300, acc=15.0),  # stored
        zero("trk-c01", 200),  # zero_fix
        native("trk-c01", NOW + timedelta(days=1), 100),  # future_time
        rmc(ago(8 * 86400), 130),  # too_old
        rmc(ago(120), 120),  # stored: trk-c02, stale
        rmc(ago(110), 110, break_checksum=True),  # bad_checksum
        phone(90, 90, 900.0),  # poor_accuracy
        phone(80, 80, 0.0, kind="lwt"),  # a device event
        Message("dm/status/2620104", status_body(ago(70)), ago(70)),
        Message("dm/lip/2620105", encode_short(60.17, 24.94, speed_kmh=10.0).encode(), ago(40)),
        good_30,  # stored
        native("trk-c01", ago(25), 25, lat=60.220),  # gps_jump: 5.5 km in 5 s
        Message(good_30.topic, good_30.payload, ago(20)),  # duplicate
        Message("dm/gps/trk-c01", b"\x00\xffnot json\x07", ago(15)),  # undecodable
        native("ghost-7", ago(10), 10, acc=3.0),  # stored: not on the roster
        Message("dm/weird/thing", b"hello", ago(5)),  # unknown_topic
    ]


def status_body(at: datetime) -> bytes:
    return json.dumps({"ts": at.isoformat(), "ptt": True}).encode()


def zero(device: str, received_s: float) -> Message:
    body = {"lat": 0.0, "lon": 0.0, "ts": ago(received_s).isoformat()}
    return Message(f"dm/gps/{device}", json.dumps(body).encode(), ago(received_s))


@pytest.fixture
def fed(conn):
    conn.execute(
        "INSERT INTO units (id, call_sign, kind) VALUES ('U900', 'X-01', 'car')"
    )  # on the roster, no device at all
    with conn.transaction():
        outcomes, _ = ingest_batch(conn, Pipeline(Topics(), Limits()), Writer(), mix())
    reasons = [o.rejection.reason if o.rejection else None for o in outcomes]
    assert reasons.count(None) == 10, reasons  # the mix is what the comments say
    conn.commit()
    return conn


def devices(conn):
    rows = stored_quality.device_quality(conn, NOW, HOUR_S, STALE_S, OFFLINE_S)
    return {d["device_id"]: d for d in rows}


def test_per_device_counts_shares_presence_and_ages(fed):
    d = devices(fed)
    c01 = d["trk-c01"]
    assert (c01["fixes_n"], c01["events_n"], c01["rejected_n"], c01["messages_n"]) == (3, 0, 5, 8)
    assert c01["rejected_by_reason"] == dict.fromkeys(
        ["zero_fix", "future_time", "gps_jump", "duplicate", "undecodable"], 1
    )
    assert quality.share(c01["rejected_n"], c01["messages_n"]) == 0.625
    assert quality.reasons_text(c01["rejected_by_reason"], c01["messages_n"]) == (
        "duplicate 12.5 % · future time 12.5 % · GPS jump 12.5 % · undecodable 12.5 % "
        "· zero fix 12.5 %"
    )
    assert (c01["presence"], c01["fix_age_s"], c01["last_fix_at"]) == ("online", 30.0, ago(30))
    assert c01["last_message_at"] == ago(15)  # the undecodable one: refused still counts
    assert c01["acc_median_m"] == 10.0  # 5, 15, 10 in the hour; 99 was before it
    assert (c01["unit_id"], c01["call_sign"], c01["format"]) == ("U001", "C-01", "native")

    c02 = d["trk-c02"]
    assert (c02["messages_n"], c02["rejected_n"]) == (3, 2)
    assert c02["rejected_by_reason"] == {"too_old": 1, "bad_checksum": 1}
    assert (c02["presence"], c02["fix_age_s"], c02["acc_median_m"]) == ("stale", 120.0, None)

    c03 = d["owntracks/c03/phone"]
    assert (c03["fixes_n"], c03["events_n"], c03["rejected_n"]) == (1, 1, 1)
    assert c03["rejected_by_reason"] == {"poor_accuracy": 1}
    assert (c03["presence"], c03["fix_age_s"], c03["last_message_at"]) == (
        "offline",
        700.0,
        ago(80),
    )

    assert (d["2620104"]["events_n"], d["2620104"]["presence"]) == (1, "no_fix")
    assert d["2620104"]["last_message_at"] == ago(70)
    assert d["2620105"]["fixes_n"] == 1 and d["2620105"]["fix_age_s"] == 40.0
    assert d["trk-c03"]["messages_n"] == 0 and d["trk-c03"]["last_message_at"] is None


def test_devices_the_roster_does_not_know_and_worst_first(fed):
    rows = stored_quality.device_quality(fed, NOW, HOUR_S, STALE_S, OFFLINE_S)
    unknown = [d for d in rows if d["unit_id"] is None]
    assert [(d["device_id"], d["presence"], d["fix_age_s"]) for d in unknown] == [
        ("ghost-7", "online", 10.0)
    ]
    order = [d["device_id"] for d in quality.worst_first(rows)]
    assert order[:3] == ["trk-c02", "trk-c01", "owntracks/c03/phone"]
    shown = quality.filter_devices(rows, formats=["native"], problems_only=True, text="c0")
    assert {d["device_id"] for d in shown} == {f"trk-c{i:02d}" for i in (1, 3, 5, 7, 9)}


def test_units_without_fresh_fix_and_without_device(fed):
    units = quality.unit_quality(
        stored_quality.units_with_devices(fed, NOW, STALE_S, OFFLINE_S), devices(fed).values()
    )
    by_sign = {u["call_sign"]: u for u in units}
    assert by_sign["X-01"]["no_device"] and by_sign["X-01"]["presence"] == "no_fix"
    assert [u["call_sign"] for u in units if u["no_device"]] == ["X-01"]
    c01 = by_sign["C-01"]
    assert (c01["messages_n"], c01["rejected_n"], c01["presence"]) == (8, 5, "online")
    assert c01["formats"] == ["lip", "native", "owntracks"]
    c03 = by_sign["C-03"]  # its phone: one fix, one event, one refused
    assert (c03["messages_n"], c03["rejected_n"], c03["fix_age_s"]) == (3, 1, 700.0)
    assert by_sign["C-02"]["presence"] == "stale"
    without = {u["call_sign"] for u in quality.units_without_fix(units, STALE_S)}
    assert without == {u["call_sign"] for u in units if not u["no_device"]} - {"C-01", "C-05"}


def test_feeds_rates_rejects_and_buckets(fed):
    buckets = stored_quality.feed_buckets(fed, NOW, HOUR_S, 300.0)
    assert quality.totals(buckets) == {"messages_n": 18, "rejected_n": 9, "unrouted_n": 1}
    assert stored_quality.message_totals(fed, NOW, HOUR_S) == quality.totals(buckets)
    feeds = {f.format: f for f in quality.feeds(buckets, HOUR_S, 300.0)}
    assert list(feeds) == ["native", "nmea", "lip", "jt808", "status", "owntracks"]
    native_feed = feeds["native"]
    assert (native_feed.messages_n, native_feed.rejected_n) == (9, 5)
    assert native_feed.rate_per_min(HOUR_S) == 9 / 60
    # Oldest bucket first: fixes received 600 s, 300 s, 30 s and 10 s ago.
    assert native_feed.accepted[-3:] == [1, 1, 2] and sum(native_feed.accepted) == 4
    assert native_feed.rejected["zero_fix"][-1] == 1
    assert (feeds["nmea"].messages_n, dict(feeds["nmea"].by_reason)) == (
        3,
        {"too_old": 1, "bad_checksum": 1},
    )
    assert (feeds["owntracks"].messages_n, feeds["owntracks"].rejected_n) == (3, 1)
    assert (feeds["status"].messages_n, feeds["lip"].messages_n) == (1, 1)


def test_drill_down_rejections_and_track(fed):
    rejected = stored_quality.device_rejections(fed, "trk-c01")
    assert [r["reason"] for r in rejected] == [
        "undecodable",
        "duplicate",
        "gps_jump",
        "future_time",
        "zero_fix",
    ]
    assert quality.payload_text(rejected[0]["payload"]) == (
        "hex",
        "00 ff 6e 6f 74 20 6a 73 6f 6e 07",
    )
    assert quality.payload_text(rejected[1]["payload"])[0] == "text"
    track = stored_quality.device_track(fed, "trk-c01", limit=3)
    assert [t["fix_at"] for t in track] == [ago(30), ago(300), ago(600)]
    assert track[0]["lat"] == 60.17


def test_csv_export_lists_every_device_worst_first(db_url, conn):
    with conn.transaction():
        ingest_batch(
            conn,
            Pipeline(Topics(), Limits()),
            Writer(),
            [*mix(), native("=HYPERLINK(1)", NOW, 0)],
        )
        access.add_user(conn, "boss", "commander", "a long test password")
    pool = open_pool(db_url, max_size=2)
    try:
        client = create_app(DashboardSettings(), PresenceSettings(), pool).server.test_client()
        assert client.get("/quality.csv").status_code == 403  # no session, no export
        login = {"name": "boss", "password": "a long test password", "next": "/quality"}
        assert client.post("/login", data=login).status_code == 303
        response = client.get("/quality.csv")
    finally:
        pool.close()
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0]["device_id"] == "trk-c02"
    c01 = next(r for r in rows if r["device_id"] == "trk-c01")
    assert (c01["messages_n"], c01["rejected_n"], c01["rejected_share"]) == ("8", "5", "0.625")
    assert (c01["rejected_gps_jump"], c01["rejected_bad_checksum"]) == ("1", "0")
    assert any(r["device_id"] == "'=HYPERLINK(1)" and r["unit_id"] == "" for r in rows)
