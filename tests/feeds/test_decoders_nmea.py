"""NMEA decoder: captured sentences (tests/fixtures/payloads/nmea.json) and edge cases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from feeds.decoders import BAD_CHECKSUM, NO_FIX, UNDECODABLE, DecodeError
from feeds.decoders.nmea import checksum_ok, decode

RMC = "$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A"
GGA = "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47"


def test_captured_payloads(nmea_case, run_case):
    run_case(decode, nmea_case)


def test_checksum_is_xor_between_dollar_and_star():
    assert checksum_ok(RMC)
    assert checksum_ok(RMC.replace("*6A", "*6a"))
    assert not checksum_ok(RMC.replace("*6A", "*6B"))
    assert not checksum_ok(RMC.replace("022.4", "023.4"))
    assert not checksum_ok(RMC[: RMC.index("*")])


def test_one_bad_sentence_among_good_ones_is_skipped():
    corrupt = GGA.replace("545.4", "945.4")
    (fix,) = decode("d", f"{corrupt}\r\n{RMC}\r\n".encode())
    assert fix.alt_m is None and fix.speed_kmh == pytest.approx(22.4 * 1.852)


def test_every_sentence_bad_is_bad_checksum():
    payload = f"{RMC[:-1]}B\n{GGA[:-1]}0\n".encode()
    with pytest.raises(DecodeError) as err:
        decode("d", payload)
    assert err.value.reason == BAD_CHECKSUM


def test_gga_quality_zero_is_no_fix():
    sentence = "$GPGGA,123519,4807.038,N,01131.000,E,0,00,,,M,,M,,"
    with pytest.raises(DecodeError) as err:
        decode("d", _with_checksum(sentence).encode())
    assert err.value.reason == NO_FIX


def test_other_talkers_are_read():
    body = RMC[1 : RMC.index("*")].replace("GP", "BD", 1)
    (fix,) = decode("d", _with_checksum("$" + body).encode())
    assert fix.lat == pytest.approx(48.1173)


def test_gga_alone_dated_from_received_at_same_day():
    received_at = datetime(2024, 2, 29, 12, 40, tzinfo=UTC)
    (fix,) = decode("d", GGA.encode(), received_at=received_at)
    assert fix.fix_at == datetime(2024, 2, 29, 12, 35, 19, tzinfo=UTC)


def test_received_at_must_be_aware():
    with pytest.raises(ValueError):
        decode("d", GGA.encode(), received_at=datetime(2024, 1, 1))


@pytest.mark.parametrize(
    "payload",
    [b"", b"\r\n", "$GPRMC,é".encode(), b"\x00\x01$GPRMC", b"hello world"],
    ids=["empty", "blank", "non-ascii", "control", "text"],
)
def test_junk_is_undecodable(payload):
    with pytest.raises(DecodeError) as err:
        decode("d", payload)
    assert err.value.reason == UNDECODABLE


def test_malformed_coordinate_with_valid_checksum_is_undecodable():
    sentence = _with_checksum("$GPRMC,123519,A,4867.038,N,01131.000,E,0,0,230394,,")
    with pytest.raises(DecodeError) as err:
        decode("d", sentence.encode())
    assert err.value.reason == UNDECODABLE


def _with_checksum(sentence: str) -> str:
    value = 0
    for ch in sentence[1:]:
        value ^= ord(ch)
    return f"{sentence}*{value:02X}"
