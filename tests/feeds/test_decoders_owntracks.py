"""OwnTracks decoder: published payloads (tests/fixtures/payloads/owntracks.json)."""

from __future__ import annotations

import json

import pytest

from feeds.decoders import UNDECODABLE, DecodeError, DeviceEvent, PositionReport
from feeds.decoders.owntracks import decode

DEVICE = "owntracks/jane/phone"


def test_captured_payloads(owntracks_case, run_case):
    run_case(decode, owntracks_case)


def test_event_keeps_the_whole_object():
    payload = {"_type": "waypoint", "desc": "Station 3", "lat": 31.2, "lon": 121.4, "tst": 1}
    (event,) = decode(DEVICE, json.dumps(payload).encode())
    assert isinstance(event, DeviceEvent)
    assert (event.device_id, event.kind, event.data) == (DEVICE, "waypoint", payload)


def test_event_with_garbage_tst_is_kept_without_time():
    (event,) = decode(DEVICE, b'{"_type":"status","tst":"yesterday"}')
    assert isinstance(event, DeviceEvent) and event.reported_at is None


def test_zero_speed_is_kept_but_minus_one_is_unknown():
    (fix,) = decode(DEVICE, b'{"_type":"location","lat":1,"lon":2,"tst":3,"vel":0,"cog":-1}')
    assert isinstance(fix, PositionReport)
    assert (fix.speed_kmh, fix.heading_deg) == (0.0, None)


@pytest.mark.parametrize(
    "payload",
    [
        b'{"_type":"location","lat":"north","lon":2,"tst":3}',
        b'{"_type":"location","lat":1,"lon":2,"tst":"soon"}',
        b'{"_type":"location","lat":1,"lon":2,"tst":3,"vel":"fast"}',
        b'{"_type":"location","lat":true,"lon":2,"tst":3}',
        b'{"_type":"location","lat":"nan","lon":2,"tst":3}',
        b'{"_type":5}',
        b'{"_type":""}',
        b'"location"',
        b"\xff\xfe",
    ],
)
def test_bad_payloads_are_undecodable(payload):
    with pytest.raises(DecodeError) as err:
        decode(DEVICE, payload)
    assert err.value.reason == UNDECODABLE
