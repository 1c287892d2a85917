from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dashboard import views


def row(uid, age, status="available", lon=24.9, lat=60.1):
    return {
        "id": uid,
        "call_sign": f"C-{uid}",
        "kind": "car",
        "status": status,
        "home_beat": "B1",
        "talkgroup": "9101",
        "phone": "+358",
        "device_id": "d",
        "speed_kmh": 12.34,
        "heading_deg": 90.0,
        "lon": None if age is None else lon,
        "lat": None if age is None else lat,
        "fix_age_s": age,
        "fix_at": None if age is None else datetime(2026, 1, 1, 10, 0, tzinfo=UTC),
    }


def test_presence_thresholds_are_inclusive_and_no_fix_is_its_own_state():
    assert views.presence(60.0, 60, 600) == "online"
    assert views.presence(60.1, 60, 600) == "stale"
    assert views.presence(600.1, 60, 600) == "offline"
    assert views.presence(None, 60, 600) == "no_fix"


def test_counts_and_geojson_skip_units_without_a_fix():
    rows = [row("1", 5), row("2", 100, "busy"), row("3", 5000), row("4", None)]
    assert views.presence_counts(rows, 60, 600) == {
        "online": 1,
        "stale": 1,
        "offline": 1,
        "no_fix": 1,
    }
    assert views.status_counts(rows) == {"available": 3, "busy": 1}
    gj = views.units_geojson(rows, 60, 600, ZoneInfo("Europe/Helsinki"))
    assert [f["properties"]["id"] for f in gj["features"]] == ["1", "2", "3"]
    first = gj["features"][0]["properties"]
    assert first["fix_time"] == "12:00:00"  # 10:00 UTC is 12:00 in Helsinki in winter
    assert first["speed_kmh"] == 12
    assert first["incident_id"] is None


def test_clock_is_in_the_station_time_zone():
    now = datetime(2026, 7, 1, 0, 30, tzinfo=UTC)
    assert views.clock_text(now, ZoneInfo("Asia/Shanghai")) == "2026-07-01 08:30:00 CST"


def test_a_feed_outage_is_one_counted_chip_and_the_real_alarms_stay_first():
    now = datetime(2026, 11, 28, 2, 10, tzinfo=UTC)
    alarm = {
        "kind": "emergency",
        "unit_id": "U1",
        "incident_id": None,
        "severity": 1,
        "raised_at": now - timedelta(seconds=5),
    }
    stale = [{"id": f"S{i}", "call_sign": f"S-{i:02d}", "fix_age_s": 120.0} for i in range(40)]
    few_offline = [{"id": "O1", "call_sign": "O-01", "fix_age_s": 900.0}]
    got = views.wall_alarms([alarm], stale + few_offline, now, 60, 600)
    assert [a["text"] for a in got][1:] == ["40 units stale", "O-01 offline"]
    assert (got[0]["text"], got[0]["severity"]) == ("EMERGENCY", 1)
    zh = views.wall_alarms([], stale, now, 60, 600, "zh")
    assert [a["text"] for a in zh] == ["40 个警力定位过时"]
    # At the limit each unit still has its own chip.
    eight = views.wall_alarms([], stale[: views.MAX_PRESENCE_CHIPS], now, 60, 600)
    assert [a["text"] for a in eight] == [f"S-{i:02d} stale" for i in range(8)]
