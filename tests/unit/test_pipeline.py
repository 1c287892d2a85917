import json
from datetime import UTC, datetime, timedelta

import pytest

from feeds.decoders import PositionReport
from feeds.pipeline import GPS_JUMP, JumpFilter, Limits, Message, Pipeline
from feeds.topics import Topics

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def run(topic: str, payload: bytes):
    return Pipeline(Topics(), Limits(future_tolerance_s=60, max_age_s=3600)).process(
        Message(topic, payload, NOW)
    )


def native(**fields) -> bytes:
    body = {"lat": 60.17, "lon": 24.94, "ts": NOW.isoformat()}
    body.update(fields)
    return json.dumps(body).encode()


def test_good_native_fix_is_accepted():
    out = run("dm/gps/trk-1", native(speed_kmh=31.5))
    assert out.rejection is None
    assert [(f.device_id, f.lat, f.lon, f.speed_kmh) for f in out.fixes] == [
        ("trk-1", 60.17, 24.94, 31.5)
    ]


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("dm/gps/x", b"\xff\xfe garbage", "undecodable"),
        ("dm/gps/x", b"[1, 2]", "undecodable"),
        ("dm/gps/x", native(lat=91.0), "out_of_range"),
        ("dm/gps/x", native(lon=-180.5), "out_of_range"),
        ("dm/gps/x", native(lat=0, lon=0), "zero_fix"),
        ("dm/gps/x", native(speed_kmh=1e300), "out_of_range"),
        ("dm/gps/x", native(speed_kmh=-3), "out_of_range"),
        ("dm/gps/x", native(heading_deg=361), "out_of_range"),
        ("dm/gps/x", native(ts=(NOW + timedelta(seconds=61)).isoformat()), "future_time"),
        ("dm/gps/x", native(ts=(NOW - timedelta(hours=2)).isoformat()), "too_old"),
        ("dm/unknown/x", native(), "unknown_topic"),
    ],
)
def test_bad_messages_get_their_reason(topic, payload, reason):
    out = run(topic, payload)
    assert out.rejection is not None and out.rejection.reason == reason
    assert out.fixes == []


def test_a_format_without_decoder_is_kept_not_dropped():
    pipeline = Pipeline(Topics(), Limits(), decoders={})
    out = pipeline.process(Message("dm/gps/x", native(), NOW))
    assert out.rejection is not None
    assert out.rejection.reason == "undecodable" and "no decoder" in out.rejection.detail


def test_a_crashing_decoder_is_contained():
    def broken(device_id, payload, received_at):
        raise ZeroDivisionError("bug")

    out = Pipeline(Topics(), Limits(), {"native": broken}).process(
        Message("dm/gps/x", native(), NOW)
    )
    assert out.rejection is not None and "ZeroDivisionError" in out.rejection.detail


@pytest.mark.parametrize(
    ("topic", "payload", "kind"),
    [
        (
            "dm/nmea/trk-2",
            b"$GPRMC,120000.00,A,6010.2000,N,02456.4000,E,10.0,90.0,281126,,,A*5F\r\n",
            "fix",
        ),
        (
            "owntracks/anna/phone",
            json.dumps(
                {"_type": "location", "lat": 60.17, "lon": 24.94, "tst": int(NOW.timestamp())}
            ).encode(),
            "fix",
        ),
        ("owntracks/anna/phone", json.dumps({"_type": "lwt", "tst": 1}).encode(), "event"),
        (
            "dm/status/2620101",
            json.dumps({"ts": NOW.isoformat(), "emergency": True}).encode(),
            "status",
        ),
    ],
)
def test_every_format_reaches_its_decoder(topic, payload, kind):
    out = run(topic, payload)
    assert out.rejection is None, out.rejection
    got = {"fix": out.fixes, "event": out.events, "status": out.statuses}[kind]
    assert len(got) == 1


def test_lip_short_report_is_dated_by_reception():
    from feeds.decoders.lip import encode_short

    out = run("dm/lip/2620101", encode_short(60.17, 24.94).encode())
    assert out.rejection is None
    assert out.fixes[0].fix_at == NOW
    assert out.fixes[0].lat == pytest.approx(60.17, abs=1e-4)


def _car_fix(device: str, at_s: float, lat: float) -> PositionReport:
    return PositionReport(
        device_id=device, fix_at=NOW + timedelta(seconds=at_s), lat=lat, lon=24.94
    )


def test_a_bad_anchor_is_left_after_agreeing_refusals():
    jumps = JumpFilter(reanchor_after=3)
    jumps.accept(_car_fix("c1", 0, 61.0))  # the first fix is 90 km off
    verdicts = []
    for i in range(1, 6):  # then the car reports where it is: 10 m a step, 5 s apart
        fix = _car_fix("c1", 5 * i, 60.17 + i * 0.0001)
        rejection = jumps.check(fix, 250.0, 150.0)
        verdicts.append(None if rejection is None else rejection.reason)
        if rejection is None:
            jumps.accept(fix)
    assert verdicts == [GPS_JUMP, GPS_JUMP, GPS_JUMP, None, None]


def test_scattered_jumps_never_re_anchor():
    jumps = JumpFilter(reanchor_after=3)
    jumps.accept(_car_fix("c1", 0, 60.17))
    # Wild fixes that disagree with one another as much as with the anchor.
    for i, lat in enumerate([61.0, 59.0, 61.5, 58.5, 62.0, 58.0], start=1):
        rejection = jumps.check(_car_fix("c1", 5 * i, lat), 250.0, 150.0)
        assert rejection is not None and rejection.reason == GPS_JUMP
    good = _car_fix("c1", 40, 60.1701)
    assert jumps.check(good, 250.0, 150.0) is None


def test_reports_without_a_time_of_their_own_are_not_judged_by_implied_speed():
    """A backlog of LIP short reports arrives within a second: dated by
    reception, 2 km apart is no jump; and they anchor no later timed fix."""
    from feeds.decoders.lip import encode_short

    pipeline = Pipeline(Topics(), Limits())
    burst = [
        Message("dm/lip/2620101", encode_short(60.17 + i * 0.02, 24.94).encode(), NOW)
        for i in range(3)
    ]
    outcomes = [pipeline.process(m, {"2620101": "car"}) for m in burst]
    assert [o.rejection for o in outcomes] == [None, None, None]
    assert all(o.fixes[0].timed_by_receipt for o in outcomes)
    assert "2620101" not in pipeline.jumps.last
    # A timed fix still meets the jump step against the last timed one.
    jumps = JumpFilter()
    jumps.accept(_car_fix("c1", 0, 60.17))
    assert jumps.check(_car_fix("c1", 5, 60.30), 250.0, 150.0) is not None
