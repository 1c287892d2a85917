"""GCJ-02 devices and feeds through the real writer: stored in WGS84, raw kept."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from feeds.pipeline import Limits, Message, Pipeline
from feeds.topics import Topics
from feeds.writer import Writer, ingest_batch
from store import coords

NOW = datetime.now(UTC).replace(microsecond=0)
# wandergis/coordtransform README: WGS84 (39.915, 116.404) is GCJ-02
# (39.91640428150164, 116.41024449916938).
GCJ = (39.91640428150164, 116.41024449916938)
WGS = (39.915, 116.404)


def msg(device: str, lat: float, lon: float, at: datetime = NOW) -> Message:
    body = json.dumps({"lat": lat, "lon": lon, "ts": at.isoformat()}).encode()
    return Message(f"dm/gps/{device}", body, NOW)


def stored(conn, device):
    return conn.execute(
        "SELECT ST_Y(p.geom), ST_X(p.geom), r.raw_lat, r.raw_lon FROM positions p "
        "LEFT JOIN position_raw_coords r USING (device_id, fix_at) WHERE p.device_id = %s",
        (device,),
    ).fetchall()


def write(conn, messages, pipeline=None):
    pipeline = pipeline or Pipeline(Topics(), Limits())
    with conn.transaction():
        return ingest_batch(conn, pipeline, Writer(), messages)[1]


def test_a_marked_device_is_stored_in_wgs84_with_its_raw_values(conn):
    coords.mark_roster_coords(conn, ["trk-c01"])
    result = write(conn, [msg("trk-c01", *GCJ), msg("trk-c03", *GCJ)])
    assert result.positions == 2
    ((lat, lon, raw_lat, raw_lon),) = stored(conn, "trk-c01")
    assert (lat, lon) == pytest.approx(WGS, abs=1e-8)  # about a millimetre
    assert (raw_lat, raw_lon) == GCJ
    assert stored(conn, "trk-c03") == [(*GCJ, None, None)]  # not marked: as sent


def test_a_marked_feed_converts_all_its_devices_but_not_outside_china(conn):
    pipeline = Pipeline(Topics(), Limits(), gcj02_formats={"native"})
    write(conn, [msg("trk-c03", *GCJ), msg("trk-c05", 60.17, 24.94)], pipeline)
    ((lat, lon, raw_lat, _),) = stored(conn, "trk-c03")
    assert (lat, lon) == pytest.approx(WGS, abs=1e-8) and raw_lat == GCJ[0]
    assert stored(conn, "trk-c05") == [(60.17, 24.94, None, None)]


def test_the_roster_unmarks_what_it_no_longer_lists(conn):
    coords.mark_roster_coords(conn, ["trk-c01"])
    coords.mark_roster_coords(conn, [])
    write(conn, [msg("trk-c01", *GCJ, at=NOW - timedelta(seconds=1))])
    assert stored(conn, "trk-c01") == [(*GCJ, None, None)]
    assert coords.gcj02_devices(conn) == set()


def test_the_roster_column_marks_devices_and_bad_values_are_refused(conn):
    from dataclasses import replace

    from geo.city import read_furniture
    from usecases.city import SAMPLE_FURNITURE, load_furniture

    furniture = read_furniture(SAMPLE_FURNITURE)
    roster = [replace(u, gps_coords="gcj02") if u.id == "U002" else u for u in furniture.roster]
    load_furniture(conn, replace(furniture, roster=roster))
    assert coords.gcj02_devices(conn) == {"trk-c02"}
    bad = [replace(u, gps_coords="bd09") if u.id == "U002" else u for u in furniture.roster]
    with pytest.raises(ValueError, match="bd09"):
        load_furniture(conn, replace(furniture, roster=bad))


def test_retention_forgets_the_raw_values_with_their_day(conn):
    from usecases.retention import drop_old_partitions

    old_at = datetime(2020, 1, 10, 12, tzinfo=UTC)
    conn.execute("SELECT ensure_position_partitions(%s, %s)", (old_at.date(), old_at.date()))
    coords.insert_raw_coords(conn, [("trk-c01", old_at, *GCJ[::-1]), ("trk-c01", NOW, *GCJ[::-1])])
    assert drop_old_partitions(conn, keep_days=90) == ["positions_20200110"]
    left = conn.execute("SELECT fix_at FROM position_raw_coords").fetchall()
    assert left == [(NOW,)]
