"""Camera health as the pages show it, and no stream URL in a map layer."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from dashboard.layout.video import camera_health_table
from dashboard.views import cameras_geojson

AT = datetime(2026, 3, 2, 8, 0, 5, tzinfo=UTC)


def test_the_map_layer_carries_health_and_never_the_stream_url() -> None:
    cams = [
        {"id": i, "name": i, "lon": 24.9, "lat": 60.1, "bearing_deg": 0.0, "fov_deg": 60.0}
        | {"range_m": 50.0, "stream_url": f"rtsp://admin:secret@10.0.0.{n}/live"}
        for n, i in enumerate(["CAM01", "CAM02"])
    ]
    layer = cameras_geojson(cams, {"CAM01": "no_signal"})
    assert [f["properties"]["health"] for f in layer["features"]] == ["no_signal", "unchecked"]
    assert "secret" not in json.dumps(layer) and "rtsp" not in json.dumps(layer)


def test_the_quality_table_puts_dark_cameras_first_with_since_when() -> None:
    rows = [
        {"camera_id": "CAM01", "name": "A", "status": "online", "detail": ""}
        | {"checked_at": AT, "changed_at": AT},
        {"camera_id": "CAM02", "name": "B", "status": "unreachable", "detail": "HTTP 404"}
        | {"checked_at": AT, "changed_at": AT},
        {"camera_id": "CAM03", "name": "C", "status": None, "detail": None}
        | {"checked_at": None, "changed_at": None},
    ]
    table = camera_health_table(rows, ZoneInfo("Europe/Helsinki"))
    summary, grid = table.children
    assert summary.children == "1 online · 1 unreachable"
    body = grid.children[1].children
    assert [r.id for r in body] == [
        "camera-health-CAM02",
        "camera-health-CAM03",
        "camera-health-CAM01",
    ]
    assert [c.children for c in body[0].children] == [
        "CAM02 B",
        "unreachable",
        "10:00:05",
        "10:00:05",
        "HTTP 404",
    ]
    assert body[1].children[1].children == "unchecked" and body[1].children[2].children == "–"
