"""TETRA LIP decoder: captured SDS (tests/fixtures/payloads/lip.json), tables, encoder."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from feeds.decoders import UNDECODABLE, DecodeError
from feeds.decoders.lip import decode, encode_short, horizontal_velocity_kmh

AT = datetime(2024, 6, 1, 8, 0, tzinfo=UTC)
SEPURA = "0A00B8C31A53EB496D6200"


def test_captured_payloads(lip_case, run_case):
    run_case(decode, lip_case)


@pytest.mark.parametrize(
    ("code", "kmh"),
    [(0, 0.0), (1, 1.0), (28, 28.0), (29, 16 * 1.038**16), (54, 73.8264), (126, 16 * 1.038**113)],
)
def test_velocity_table_linear_then_exponential(code, kmh):
    assert horizontal_velocity_kmh(code) == pytest.approx(kmh, rel=1e-4)


def test_velocity_table_unknown_and_continuity():
    assert horizontal_velocity_kmh(127) is None
    assert 28.0 < horizontal_velocity_kmh(29) < 29.1  # the two pieces meet near 28 km/h
    speeds = [horizontal_velocity_kmh(code) for code in range(127)]
    assert speeds == sorted(speeds)


def test_encoder_reproduces_the_sepura_capture_bit_for_bit():
    encoded = encode_short(
        52.3757, 16.23886, speed_kmh=73.8, heading_deg=247.5, acc_m=20, reason=32
    )
    assert encoded == SEPURA


@pytest.mark.parametrize(
    ("lat", "lon", "speed_kmh", "heading_deg", "acc_m"),
    [
        (31.2304, 121.4737, 42.0, 90.0, 15.0),
        (-33.8688, 151.2093, 0.0, 0.0, 2.0),
        (40.7128, -74.0060, 120.5, 337.5, 150.0),
        (-54.8019, -68.3030, 27.6, 180.0, 1e4),
        (89.9999, 179.9999, 300.0, 22.5, 1e5),
        (-90.0, -180.0, 500.0, 359.0, 3e5),
    ],
)
def test_round_trip_within_resolution(lat, lon, speed_kmh, heading_deg, acc_m):
    encoded = encode_short(lat, lon, speed_kmh=speed_kmh, heading_deg=heading_deg, acc_m=acc_m)
    (fix,) = decode("t", encoded.encode(), received_at=AT)
    assert fix.lat == pytest.approx(lat, abs=180 / 2**24)
    assert (fix.lon - lon + 180) % 360 - 180 == pytest.approx(0, abs=360 / 2**25)
    assert fix.speed_kmh == pytest.approx(speed_kmh, rel=0.02, abs=0.5)
    assert abs((fix.heading_deg - heading_deg + 180) % 360 - 180) <= 11.25
    assert fix.acc_m is None or fix.acc_m >= acc_m
    assert fix.fix_at == AT


def test_round_trip_unknowns():
    (fix,) = decode("t", encode_short(1.0, 2.0).encode(), received_at=AT)
    assert (fix.speed_kmh, fix.acc_m, fix.heading_deg) == (None, None, 0.0)


@pytest.mark.parametrize(
    "kwargs",
    [{"lat": 91.0, "lon": 0.0}, {"lat": 0.0, "lon": 181.0}, {"lat": 0, "lon": 0, "reason": 256}],
)
def test_encoder_refuses_out_of_range(kwargs):
    with pytest.raises(ValueError):
        encode_short(**kwargs)


def test_encoder_refuses_negative_speed():
    with pytest.raises(ValueError):
        encode_short(0.0, 0.0, speed_kmh=-1.0)


def test_short_report_defaults_to_now():
    before = datetime.now(UTC)
    (fix,) = decode("t", SEPURA.encode())
    assert before <= fix.fix_at <= datetime.now(UTC)


@pytest.mark.parametrize("payload", [b"", b"  ", b"0A0", b"0A\xff", b"0A", b"zz"])
def test_junk_is_undecodable(payload):
    with pytest.raises(DecodeError) as err:
        decode("t", payload, received_at=AT)
    assert err.value.reason == UNDECODABLE


@pytest.mark.parametrize(
    ("lat", "lon"), [(31.2304, 121.4737), (-33.8688, 151.2093), (40.7128, -74.0060)]
)
def test_21_digit_report_reads_as_its_22_digit_padding(lat, lon):
    padded = encode_short(lat, lon, speed_kmh=42.0, heading_deg=90.0, acc_m=15.0, reason=7)
    assert len(padded) == 22 and padded.endswith("0")
    (odd,) = decode("t", padded[:-1].encode(), received_at=AT)
    (even,) = decode("t", padded.encode(), received_at=AT)
    assert odd == even
    assert odd.lat == pytest.approx(lat, abs=180 / 2**24)


@pytest.mark.parametrize(
    "payload",
    [SEPURA[:-1], SEPURA[:-1].lower(), f" {SEPURA[:2]} {SEPURA[2:-1]}\r\n", SEPURA + "F0F"],
    ids=["21-digits", "lower-case", "spaced", "23-digits"],
)
def test_any_number_of_digits_is_read(payload):
    (fix,) = decode("t", payload.encode(), received_at=AT)
    assert (fix.lat, fix.lon) == pytest.approx((52.375699281692505, 16.238855123519897))


@pytest.mark.parametrize(
    "payload",
    ["0x" + SEPURA, "-" + SEPURA[:-1], SEPURA[:10] + "_" + SEPURA[10:-1], SEPURA[:-2] + "g"],
    ids=["0x-prefix", "sign", "underscore", "non-hex-digit"],
)
def test_what_int_would_forgive_is_not_hex(payload):
    with pytest.raises(DecodeError) as err:
        decode("t", payload.encode(), received_at=AT)
    assert err.value.reason == UNDECODABLE and "not hex" in err.value.detail
