"""Status decoder (tests/fixtures/payloads/status.json) and field type checks."""

from __future__ import annotations

import pytest

from feeds.decoders import UNDECODABLE, DecodeError
from feeds.decoders.status import STATES, decode


def test_cases(status_case, run_case):
    run_case(decode, status_case)


@pytest.mark.parametrize("state", sorted(STATES))
def test_every_state_is_accepted(state):
    (report,) = decode("t1", f'{{"ts":1714522530,"state":"{state}"}}'.encode())
    assert report.state == state


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (b'{"ts":1,"ptt":1}', "ptt"),
        (b'{"ts":1,"emergency":"yes"}', "emergency"),
        (b'{"ts":1,"talkgroup":1.5}', "talkgroup"),
        (b'{"ts":1,"talkgroup":true}', "talkgroup"),
        (b'{"ts":1,"battery_pct":"80"}', "battery_pct"),
        (b'{"ts":1,"battery_pct":-1}', "battery_pct"),
        (b'{"ts":1,"state":3}', "state"),
        (b'{"ptt":true}', "ts"),
        (b'{"ts":[1]}', "ts"),
    ],
)
def test_wrong_types_name_the_field(payload, field):
    with pytest.raises(DecodeError) as err:
        decode("t1", payload)
    assert err.value.reason == UNDECODABLE
    assert field in err.value.detail


def test_not_json():
    with pytest.raises(DecodeError) as err:
        decode("t1", b"EMERGENCY")
    assert err.value.reason == UNDECODABLE
