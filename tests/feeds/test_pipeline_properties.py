"""Property: whatever arrives on any topic, nothing raises out of the pipeline
and every message ends as exactly one thing (records, or one rejection); and
through the real writer every message is accounted for in the database."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feeds.pipeline import Limits, Message, Pipeline
from feeds.topics import Topics
from feeds.writer import Writer, ingest_batch

TOPICS = Topics("dm", "owntracks")
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
TOPIC_NAMES = [
    "dm/gps/trk-c01",
    "dm/nmea/trk-c02",
    "dm/lip/2620101",
    "dm/status/2620101",
    "owntracks/c01/phone",
    "dm/gps/unknown-9",
    "dm/other/x",
    "owntracks/x",
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=6)
    ),
    max_leaves=20,
)
# Objects shaped like the real formats, with arbitrary values, reach deeper than noise.
shaped = st.fixed_dictionaries(
    {},
    optional={
        "_type": st.sampled_from(["location", "lwt", "transition", "cmd"]) | st.text(max_size=5),
        "lat": json_values,
        "lon": json_values,
        "ts": json_values,
        "tst": json_values,
        "speed_kmh": json_values,
        "acc": json_values,
        "vel": json_values,
        "state": json_values,
        "emergency": json_values,
        "battery_pct": json_values,
    },
)
payloads = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
    shaped.map(lambda v: json.dumps(v).encode()),
    st.text(alphabet="$GPRMCGA,.*0123456789ABCDEFNSEWV\r\n", max_size=120).map(str.encode),
    st.text(alphabet="0123456789abcdefABCDEF ", max_size=60).map(str.encode),
)
messages = st.builds(lambda t, p: Message(t, p, NOW), st.sampled_from(TOPIC_NAMES), payloads)


@settings(max_examples=400, deadline=None)
@given(messages)
def test_every_message_ends_as_exactly_one_thing(message):
    out = Pipeline(TOPICS, Limits()).process(message, {"trk-c01": "car"})
    stored = bool(out.fixes or out.statuses or out.events)
    assert stored != (out.rejection is not None)
    if out.rejection is not None:
        assert out.rejection.reason and isinstance(out.rejection.detail, str)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(messages, min_size=1, max_size=15))
def test_through_the_writer_every_message_is_accounted_for(db_url, batch):
    with psycopg.connect(db_url) as conn:
        before = counts(conn)
        with conn.transaction():
            outcomes, result = ingest_batch(conn, Pipeline(TOPICS, Limits()), Writer(), batch)
        after = counts(conn)
    positions, events, quarantined = (a - b for a, b in zip(after, before, strict=True))
    assert quarantined == result.quarantined == sum(o.rejection is not None for o in outcomes)
    assert events == result.events
    assert positions == result.positions
    assert all(o.rejection is not None or o.fixes or o.statuses or o.events for o in outcomes)


def counts(conn: psycopg.Connection) -> tuple[int, int, int]:
    row = conn.execute(
        "SELECT (SELECT count(*) FROM positions), (SELECT count(*) FROM "
        "device_events), (SELECT count(*) FROM quarantine)"
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])
