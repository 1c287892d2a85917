"""Ingest through a real Mosquitto into a real PostGIS."""

import json
from datetime import UTC, datetime, timedelta

import psycopg

from tests.conftest import wait_equal
from tests.helpers import publish_all, publisher, running_ingest


def native(lat: float, at: datetime, lon: float = 24.94) -> bytes:
    return json.dumps({"lat": lat, "lon": lon, "ts": at.isoformat()}).encode()


def counts(db_url: str) -> tuple[int, int]:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM positions), (SELECT count(*) FROM quarantine)"
        ).fetchone()
        assert row is not None
        return int(row[0]), int(row[1])


def test_every_message_is_stored_or_quarantined(db_url, mqtt_hostport, topics):
    host, port = mqtt_hostport
    now = datetime.now(UTC).replace(microsecond=0)
    good = [
        (topics.gps("trk-c01"), native(60.17 + i * 1e-4, now - timedelta(seconds=60 - i)))
        for i in range(50)
    ]
    bad = [
        (topics.gps("trk-c01"), b"{not json"),
        (topics.gps("trk-c02"), native(0.0, now, lon=0.0)),
        (f"{topics.prefix}/gps/x", b""),
    ]
    with running_ingest(db_url, host, port, topics) as worker, publisher(host, port) as pub:
        publish_all(pub, good + bad)
        wait_equal(lambda: counts(db_url), (50, 3))
        wait_equal(lambda: worker.stats.received, 53)
    with psycopg.connect(db_url) as conn:
        latest = conn.execute("SELECT unit_id, ST_Y(geom) FROM unit_latest").fetchall()
        reasons = sorted(r for (r,) in conn.execute("SELECT reason FROM quarantine"))
    assert latest == [("U001", 60.17 + 49 * 1e-4)]
    assert reasons == ["undecodable", "undecodable", "zero_fix"]


def test_messages_published_while_ingest_is_down_arrive_after_restart(
    db_url, mqtt_hostport, topics
):
    host, port = mqtt_hostport
    now = datetime.now(UTC).replace(microsecond=0)
    # First run establishes the persistent session, then the worker goes away.
    with running_ingest(db_url, host, port, topics, client_id="persistent-1"):
        pass
    with publisher(host, port) as pub:
        publish_all(
            pub,
            [(topics.gps("trk-c01"), native(60.17, now - timedelta(seconds=i))) for i in range(20)],
        )
    with running_ingest(db_url, host, port, topics, client_id="persistent-1"):
        wait_equal(lambda: counts(db_url), (20, 0))


def test_metrics_endpoint_counts_what_was_stored_and_refused(db_url, mqtt_hostport, topics):
    import urllib.request

    from dispatchmap.services import free_port

    host, port = mqtt_hostport
    now = datetime.now(UTC).replace(microsecond=0)
    with running_ingest(db_url, host, port, topics) as worker, publisher(host, port) as pub:
        metrics_port = free_port()
        worker.metrics.serve(metrics_port)
        publish_all(
            pub, [(topics.gps("trk-c01"), native(60.17, now)), (topics.gps("trk-c01"), b"garbage")]
        )
        wait_equal(lambda: worker.stats.received, 2)
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics") as response:
            text = response.read().decode()
    assert "dm_ingest_messages_received_total 2.0" in text
    assert "dm_ingest_positions_stored_total 1.0" in text
    assert 'dm_ingest_messages_quarantined_total{reason="undecodable"} 1.0' in text
    assert "dm_ingest_commit_lag_seconds_count 2.0" in text
