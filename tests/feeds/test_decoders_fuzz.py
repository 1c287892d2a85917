"""Property tests: every decoder returns shared types or raises DecodeError, never
anything else, for arbitrary bytes and arbitrary JSON; fixtures obey invariants."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.decoders import (
    DecodeError,
    DeviceEvent,
    PositionReport,
    StatusReport,
    jt808,
    lip,
    native,
    nmea,
    owntracks,
    status,
)

AT = datetime(2024, 3, 1, 0, 5, tzinfo=UTC)
DECODERS = {
    "native": native.decode,
    "owntracks": owntracks.decode,
    "status": status.decode,
    "nmea": lambda d, p: nmea.decode(d, p, received_at=AT),
    "lip": lambda d, p: lip.decode(d, p, received_at=AT),
    "jt808": jt808.decode,
}
_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
_json = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=6)
    ),
    max_leaves=20,
)
_keys = st.sampled_from(["_type", "lat", "lon", "tst", "ts", "vel", "cog", "acc", "state", "ptt"])
_objects = st.dictionaries(_keys, _scalars | st.sampled_from(["location", "lwt", "enroute"]))


def _decodes_cleanly(payload: bytes) -> None:
    for name, decode in DECODERS.items():
        try:
            result = decode("fuzz", payload)
        except DecodeError as exc:
            assert isinstance(exc.reason, str) and exc.reason, name
            continue
        assert isinstance(result, list), name
        assert all(
            isinstance(item, PositionReport | StatusReport | DeviceEvent) for item in result
        ), name


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes(payload):
    _decodes_cleanly(payload)


@settings(max_examples=300, deadline=None)
@given(_json)
def test_arbitrary_json(value):
    _decodes_cleanly(json.dumps(value).encode())


@settings(max_examples=300, deadline=None)
@given(_objects)
def test_json_objects_with_real_keys(obj):
    _decodes_cleanly(json.dumps(obj).encode())


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="$GPRMCGA,.*0123456789ABCDEFNSWV\r\n", max_size=120))
def test_nmea_like_text(text):
    _decodes_cleanly(text.encode())


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=1, max_size=24))
def test_lip_like_hex(data):
    _decodes_cleanly(("0A" + data.hex()).encode())


def test_shared_invariants_over_all_fixtures(all_cases, check_invariants):
    decoded_count = 0
    for fmt, cases in all_cases.items():
        for case in cases:
            if "error" in case:
                continue
            kwargs = (
                {"received_at": datetime.fromisoformat(case["received_at"])}
                if ("received_at" in case)
                else {}
            )
            decode = {"nmea": nmea.decode, "lip": lip.decode}.get(fmt) or DECODERS[fmt]
            payload = (
                bytes.fromhex(case["payload_hex"])
                if "payload_hex" in case
                else case.get("payload", "").encode()
            )
            decoded = decode("dev", payload, **kwargs)
            check_invariants(decoded)
            decoded_count += len(decoded)
    assert decoded_count >= 30
