"""JT/T 808 decoder: captured frames (tests/fixtures/payloads/jt808.json),
frames built by hand from the standard's layout, replies, and fuzzing with
random bytes and with truncated and mutated real frames."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import reduce

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.decoders import BAD_CHECKSUM, NO_FIX, UNDECODABLE, DecodeError, PositionReport
from feeds.decoders import jt808 as j
from tests.feeds.conftest import case_payload, check_invariants, load_cases

HAND_2013 = (
    "7E0200001C0139123456780001000000010000000201DC89D0073D8AA5000C007D02007D01260304181530AE7E"
)


def test_captured_payloads(jt808_case, run_case):
    run_case(j.decode, jt808_case)


def test_escape_examples_of_the_standard():
    # JT/T 808 section 4.4.2: 30 7E 08 7D 55 travels as 30 7D 02 08 7D 01 55.
    assert j.escape(bytes.fromhex("307E087D55")) == bytes.fromhex("307D02087D0155")
    assert j.unescape(bytes.fromhex("307D02087D0155")) == bytes.fromhex("307E087D55")


@given(st.binary(max_size=300))
def test_escape_round_trip_and_no_flag_inside(data):
    escaped = j.escape(data)
    assert j.FLAG not in escaped
    assert j.unescape(escaped) == data


@pytest.mark.parametrize("inner", ["307D", "307D0308", "307E08"])
def test_broken_escapes_are_undecodable(inner):
    with pytest.raises(DecodeError) as err:
        j.unescape(bytes.fromhex(inner))
    assert err.value.reason == UNDECODABLE


def test_hand_built_2013_frame_byte_by_byte():
    header = bytes.fromhex("0200001C0139123456780001")  # id, 28 bytes, phone, serial
    body = bytes.fromhex(
        "00000001"  # alarm: bit 0 emergency
        "00000002"  # status: bit 1 positioned
        "01DC89D0"  # 31.230416 deg N = 31230416
        "073D8AA5"  # 121.473701 deg E
        "000C"  # 12 m
        "007E"  # 12.6 km/h, a flag byte in the body
        "007D"  # 125 deg, an escape byte in the body
        "260304181530"  # 2026-03-04 18:15:30 GMT+8
    )
    code = reduce(lambda a, b: a ^ b, header + body)
    assert code == 0xAE
    frame = j.build_frame(j.LOCATION, "013912345678", 1, body)
    assert frame.hex().upper() == HAND_2013
    (fix,) = j.decode("jt808-013912345678", frame)
    assert fix.fix_at == datetime(2026, 3, 4, 10, 15, 30, tzinfo=UTC)
    assert (fix.speed_kmh, fix.heading_deg, fix.alt_m) == (12.6, 125.0, 12.0)
    assert j.location(j.parse_frame(frame).body).emergency


def test_headers_2013_2019_and_sub_package():
    h13 = j.parse_frame(bytes.fromhex(HAND_2013)).header
    assert (h13.msg_id, h13.body_len, h13.version, h13.phone, h13.serial) == (
        0x0200,
        28,
        None,
        "013912345678",
        1,
    )
    assert h13.size == 12 and h13.total is None
    frame = j.build_frame(0x0704, "13912345678", 9, b"\x01\x02", version=1, package=(3, 2))
    h19 = j.parse_frame(frame).header
    assert (h19.version, h19.phone, h19.total, h19.index, h19.size) == (
        1,
        "00000000013912345678",
        3,
        2,
        21,
    )
    assert j.device_id(h19.phone) == j.device_id(h13.phone) == "jt808-013912345678"


def test_batch_items_are_judged_each_on_its_own():
    good = bytes.fromhex(HAND_2013)
    body = j.parse_frame(good).body
    unpositioned = body[:4] + b"\x00\x00\x00\x00" + body[8:]
    items = [body, unpositioned, body[:22] + bytes.fromhex("260304181545")]
    batch = len(items).to_bytes(2) + b"\x01" + b"".join(len(i).to_bytes(2) + i for i in items)
    frame = j.build_frame(j.BATCH, "013912345678", 7, batch)
    fixes = j.decode("d", frame)
    assert [f.fix_at.second for f in fixes] == [30, 45]
    with pytest.raises(DecodeError) as err:
        j.decode("d", j.build_frame(j.BATCH, "013912345678", 7, b"\x00\x01\x01\x00\x1c"))
    assert err.value.reason == UNDECODABLE
    only_unpositioned = b"\x00\x01\x01" + len(unpositioned).to_bytes(2) + unpositioned
    with pytest.raises(DecodeError) as err:
        j.decode("d", j.build_frame(j.BATCH, "013912345678", 7, only_unpositioned))
    assert err.value.reason == NO_FIX


def test_declared_length_must_match_the_body():
    content = bytes.fromhex("000200050139123456780001")  # says 5 bytes, holds none
    frame = b"\x7e" + content + bytes([j.check_code(content)]) + b"\x7e"
    with pytest.raises(DecodeError, match="declared body length 5"):
        j.parse_frame(frame)


def test_general_response_bytes():
    heartbeat = j.parse_frame(bytes.fromhex("7e0002000004304832546500b7ca7e")).header
    reply = j.general_response(heartbeat, 0x0102, j.OK)
    # 8001, 5 bytes, phone 043048325465, serial 0102; body: serial 00B7, id 0002, result 0
    content = bytes.fromhex("80010005043048325465010200B7000200")
    assert reply == b"\x7e" + content + bytes([j.check_code(content)]) + b"\x7e"


def test_registration_response_and_auth_code_2013_and_2019():
    reg = j.parse_frame(
        bytes.fromhex(
            "7E0100002D013511221122000500000000373031303748422D523033474244000000000000000000"
            "00003233363631303402CBD5424136383630387E"
        )
    ).header
    reply = j.parse_frame(j.registration_response(reg, 1, j.OK, "abc123"))
    assert reply.header.msg_id == j.REGISTER_RESPONSE
    assert reply.body == bytes.fromhex("000500") + b"abc123"
    refused = j.parse_frame(j.registration_response(reg, 2, j.NO_SUCH_TERMINAL, "abc123"))
    assert refused.body == bytes.fromhex("000504")
    auth = j.parse_frame(
        bytes.fromhex("7E0102000E013511221122000661757468656E7469636174696F6E3F7E")
    )
    assert j.auth_code(auth.body, auth.header.version) == "authentication"
    body19 = b"\x06abc123" + b"8" * 15 + b"v1".ljust(20, b"\0")
    assert j.auth_code(body19, 1) == "abc123"


def _real_frames() -> list[bytes]:
    return [case_payload(c) for c in load_cases("jt808")]


def _decodes_cleanly(payload: bytes) -> None:
    try:
        decoded = j.decode("fuzz", payload)
    except DecodeError as exc:
        assert exc.reason
        return
    check_invariants(decoded)
    assert decoded and all(isinstance(f, PositionReport) for f in decoded)


@settings(max_examples=300)
@given(st.binary(max_size=200))
def test_random_bytes_decode_or_raise_decode_error(payload):
    _decodes_cleanly(b"\x7e" + payload + b"\x7e")
    _decodes_cleanly(payload)


def test_every_truncation_of_real_frames():
    for frame in _real_frames():
        for end in range(len(frame)):
            _decodes_cleanly(frame[:end])
            _decodes_cleanly(frame[:end] + b"\x7e")


@settings(max_examples=300)
@given(st.sampled_from(_real_frames()), st.data())
def test_mutated_real_frames(frame, data):
    at = data.draw(st.integers(1, len(frame) - 2))
    byte = data.draw(st.integers(0, 255))
    mutated = frame[:at] + bytes([byte]) + frame[at + 1 :]
    _decodes_cleanly(mutated)
    if mutated != frame and j.FLAG not in mutated[1:-1] and j.ESC not in frame[1:-1]:
        with pytest.raises(DecodeError) as err:  # one changed byte: the check code sees it
            j.decode("fuzz", mutated)
        assert err.value.reason in (BAD_CHECKSUM, UNDECODABLE)


def test_additional_items_mileage_signal_satellites():
    hand_2019 = (
        "7E0200402801000000000139123456787D027D01000000000000000E021002CA037AD518001902"
        "0B010E260304181531010400000D0530011F31010C257E"
    )
    loc = j.location(j.parse_frame(bytes.fromhex(hand_2019)).body)
    assert (loc.mileage_km, loc.signal, loc.sats) == (333.3, 31, 12)
    assert (loc.lat, loc.lon) == (-34.603722, -58.381592)
    assert loc.positioned and not loc.emergency
    shenzhen = (
        "7E0200002A013833501744001900000000000000C201597FA806CC015800800000000815081807"
        "21210104000002F502020000030200009F7E"
    )
    loc = j.location(j.parse_frame(bytes.fromhex(shenzhen)).body)
    assert (loc.mileage_km, loc.signal, loc.sats) == (75.7, None, None)
