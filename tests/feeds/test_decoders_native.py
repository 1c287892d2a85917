"""Native JSON decoder (tests/fixtures/payloads/native.json) and its time parser."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from feeds.decoders import UNDECODABLE, DecodeError
from feeds.decoders.native import decode, parse_time


def test_cases(native_case, run_case):
    run_case(decode, native_case)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-01T08:15:30+08:00", datetime(2024, 5, 1, 0, 15, 30, tzinfo=UTC)),
        ("2024-05-01T00:15:30Z", datetime(2024, 5, 1, 0, 15, 30, tzinfo=UTC)),
        (1714522530, datetime(2024, 5, 1, 0, 15, 30, tzinfo=UTC)),
        (1714522530.5, datetime(2024, 5, 1, 0, 15, 30, 500000, tzinfo=UTC)),
        (1714522530123, datetime(2024, 5, 1, 0, 15, 30, 123000, tzinfo=UTC)),
    ],
)
def test_parse_time_forms(value, expected):
    assert parse_time(value) == expected


@pytest.mark.parametrize(
    "value", ["2024-05-01T08:15:30", "yesterday", True, None, float("nan"), 1e300, [1]]
)
def test_parse_time_refuses(value):
    with pytest.raises(DecodeError) as err:
        parse_time(value)
    assert err.value.reason == UNDECODABLE


def test_sequence_number_only_when_integer():
    (fix,) = decode("g1", b'{"lat":1,"lon":2,"ts":3,"seq":"7"}')
    assert fix.seq is None
    (fix,) = decode("g1", b'{"lat":1,"lon":2,"ts":3,"seq":7}')
    assert fix.seq == 7
