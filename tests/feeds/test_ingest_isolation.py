"""A batch the database refuses does not stop the ingest: the batch is written
message by message and only the message it still refuses is quarantined."""

import json
from datetime import UTC, datetime

import psycopg

from feeds import writer as writer_module
from tests.conftest import wait_equal
from tests.helpers import publish_all, publisher, running_ingest


def test_a_message_the_database_refuses_is_quarantined_and_the_rest_stored(
    db_url, mqtt_hostport, topics, monkeypatch
):
    real_write = writer_module.Writer.write

    def refusing_write(self, conn, batch):
        outcomes = batch.outcomes if isinstance(batch, writer_module.Staged) else batch
        if any(b"poison" in o.message.payload and o.rejection is None for o in outcomes):
            raise psycopg.errors.DataError("refused for the test")
        return real_write(self, conn, batch)

    monkeypatch.setattr(writer_module.Writer, "write", refusing_write)
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    good = [
        (topics.gps(f"trk-c{i:02d}"), json.dumps({"lat": 60.17, "lon": 24.94, "ts": now}).encode())
        for i in range(1, 6)
    ]
    poison = (
        topics.gps("trk-c09"),
        json.dumps({"lat": 60.17, "lon": 24.94, "ts": now, "note": "poison"}).encode(),
    )
    host, port = mqtt_hostport
    with (
        running_ingest(db_url, host, port, topics, batch_wait_ms=300) as worker,
        publisher(host, port) as pub,
    ):
        publish_all(pub, [*good[:3], poison, *good[3:]])
        wait_equal(lambda: worker.stats.received, 6, timeout=30)
    with psycopg.connect(db_url) as conn:
        stored = conn.execute("SELECT count(*) FROM positions").fetchone()
        kept = conn.execute("SELECT reason, payload FROM quarantine").fetchall()
    assert stored == (5,)
    assert kept == [("store_error", poison[1])]
