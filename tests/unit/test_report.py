"""The incident report and its parts, on hand-made reviews (no database):
the projection and the map's extent, the rows of each section, a long log
still fitting one page, Chinese, and the export's progress bar."""

from __future__ import annotations

import dataclasses
import io
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dashboard import report_text as txt
from dashboard.report import MAP_ASPECT, fit, incident_report_pdf
from dispatchmap.progress import ProgressBar
from geo.incident_review import Review, centre_of, interval_targets, map_extent
from geo.records import ChainCover
from geo.replay import Fix, Track
from tests.pdftext import pdf_text
from usecases.alarms import Thresholds

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
TZ = ZoneInfo("Europe/Helsinki")
SCENE = (24.9452, 60.1690)


def event(s: float, kind: str, unit: str | None = None, actor: str = "desk:alice", **data):
    return {
        "id": int(s),
        "at": T0 + timedelta(seconds=s),
        "kind": kind,
        "actor": actor,
        "unit_id": unit,
        "order_id": None,
        "data": data,
    }


def review(events: list[dict], **incident) -> Review:
    track = Track(
        "U001",
        [
            Fix(T0 + timedelta(seconds=s), 24.938 + s * 2e-5, 60.165 + s * 1e-5)
            for s in range(0, 400, 20)
        ],
    )
    row = {
        "id": 7,
        "external_id": "110-2026-0001",
        "type": "assault",
        "name_en": "Assault",
        "name_zh": "殴打",
        "priority": 1,
        "status": "closed",
        "created_at": T0,
        "created_by": "110",
        "source": "110",
        "notes": "",
        "lon": SCENE[0],
        "lat": SCENE[1],
        "beat": "Beat 3",
        "road": "Aleksanterinkatu",
        "road_distance_m": 12.0,
        **incident,
    }
    points = [SCENE, *((f.lon, f.lat) for f in track.fixes)]
    extent = map_extent(points, MAP_ASPECT)
    road = [[extent[0], SCENE[1]], [extent[2], SCENE[1]]]
    return Review(
        row,
        events,
        T0 - timedelta(minutes=2),
        T0 + timedelta(minutes=10),
        {"U001": track},
        {"U001": "C-01", "U002": "C-02", "U009": "M-09"},
        extent,
        [(True, road)],
        {"queue_s": 10.0, "ack_s": 45.0, "travel_s": None},
    )


LOG = [
    event(0, "created", actor="110"),
    event(
        5,
        "suggestions_shown",
        ranked=[
            {"unit_id": "U001", "call_sign": "C-01", "eta_s": 90},
            {"unit_id": "U002", "call_sign": "C-02", "eta_s": 150},
        ],
    ),
    event(10, "dispatched", "U001", rank=1),
    event(12, "dispatched", "U009", rank=None),
    event(55, "acknowledged", "U001", actor="unit:U001"),
    event(56, "order_published", "U001", actor="system"),
]


def test_map_extent_keeps_the_aspect_a_minimum_span_and_the_points():
    box = map_extent([SCENE], aspect=2.0, min_span_m=600)
    proj = centre_of(box)
    west, south = proj.xy(box[0], box[1])
    east, north = proj.xy(box[2], box[3])
    assert (east - west, north - south) == pytest.approx((1200.0, 600.0), rel=1e-6)
    points = [(24.93, 60.16), (24.96, 60.175)]
    wide = map_extent(points, aspect=1.0)
    assert wide[0] < 24.93 and wide[2] > 24.96 and wide[1] < 60.16 and wide[3] > 60.175


def test_targets_follow_priority():
    urgent, calm = interval_targets(1, Thresholds()), interval_targets(4, Thresholds())
    assert (urgent["queue_s"], urgent["response_s"], urgent["travel_s"]) == (60.0, 300.0, None)
    assert (calm["queue_s"], calm["response_s"], calm["ack_s"]) == (300.0, 600.0, 30.0)


def test_rows_of_each_section():
    rows = txt.timeline_rows(LOG, TZ, {"U001": "C-01", "U009": "M-09"}, "en")
    assert [r[1] for r in rows] == [
        "created",
        "suggestions shown (2)",
        "dispatched (#1)",
        "dispatched (override)",
        "acknowledged",
    ]
    assert rows[2] == ["12:00:10", "dispatched (#1)", "C-01", "desk:alice"]
    intervals = txt.interval_rows(
        {"queue_s": 10.0, "ack_s": 45.0}, interval_targets(1, Thresholds()), "en"
    )
    assert intervals[0] == ["queue", "0:10", "1:00", "ok"]
    assert intervals[1] == ["acknowledgement", "0:45", "0:30", "over"]
    assert intervals[3] == ["travel", "–", "–", ""]
    sent = txt.suggestion_rows(LOG, {"U009": "M-09"}, TZ, "en")
    assert sent == [
        ["#1", "C-01", "1.5 min", "sent 12:00:10 desk:alice"],
        ["#2", "C-02", "2.5 min", "not sent"],
        ["–", "M-09", "override", "sent 12:00:12 desk:alice"],
    ]
    assert [txt.duration(s) for s in (0, 59.6, 3725, None)] == ["0:00", "1:00", "1:02:05", "–"]


def test_report_is_one_page_with_a_long_log_cut_and_the_same_bytes_each_time():
    log = LOG + [
        event(60 + i, "alarm_raised", actor="system", alarm="unacknowledged") for i in range(80)
    ]
    pdf = incident_report_pdf(review(log), interval_targets(1, Thresholds()), TZ)
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)) == 1
    text = pdf_text(pdf)
    shown = len(re.findall(r"alarm: not acknowledged", text))
    assert 10 < shown < 80 and f"… {80 - shown} more" in text  # 5 rows before, 1 kept after
    assert text.index(" more") < text.rindex("alarm: not acknowledged")  # the last row is kept
    assert "Incident #7 · Assault · P1" in text and "110 id 110-2026-0001" in text
    assert pdf == incident_report_pdf(review(log), interval_targets(1, Thresholds()), TZ)


def test_the_report_prints_the_event_log_chain_head_covering_the_incident():
    chain = ChainCover(
        incident_seq=40, head_seq=42, head_hash=bytes.fromhex("3fa9c2d1e0b4" + "00" * 26)
    )
    with_chain = dataclasses.replace(review(LOG), chain=chain)
    text = pdf_text(incident_report_pdf(with_chain, interval_targets(1, Thresholds()), TZ))
    assert (
        "Event log chain head: seq 42 · sha256 3fa9c2d1e0b4 · "
        "covers this incident's events to seq 40" in text
    )
    zh = txt.chain_line(with_chain, "zh")
    assert zh == "事件日志哈希链头: 序号 42 · sha256 3fa9c2d1e0b4 · 覆盖本警情事件至序号 40"
    no_events = dataclasses.replace(with_chain, chain=dataclasses.replace(chain, incident_seq=None))
    assert txt.chain_line(no_events, "en").endswith("· this incident has no event")
    assert txt.chain_line(review(LOG), "en") is None  # an empty log: no line


def test_chinese_report_uses_a_chinese_font():
    pdf = incident_report_pdf(review(LOG), interval_targets(1, Thresholds()), TZ, "zh")
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)) == 1
    assert b"WenQuanYiMicroHei" in pdf and b"/FontFile2" in pdf  # embedded: setup installs it


def test_fit_cuts_with_an_ellipsis():
    assert fit("short", "Helvetica", 8, 100) == "short"
    cut = fit("a very long operator name indeed", "Helvetica", 8, 40)
    assert cut.endswith("…") and len(cut) < 20


def test_progress_plain_lines_are_throttled_and_the_last_always_shown():
    out = io.StringIO()
    bar = ProgressBar(out, "export", bar=False, every_s=3600.0)
    for done in range(1, 5):
        bar(done, 4, done * 1000)
    bar.close()
    assert out.getvalue().splitlines() == [
        "export: 1/4 units, 1,000 fixes, ETA ?",  # no pace yet
        "export: 4/4 units, 4,000 fixes, ETA 00:00",  # 2/4 and 3/4 fell within the hour
    ]


def test_progress_plain_lines_say_each_step_when_not_throttled():
    out = io.StringIO()
    bar = ProgressBar(out, "export", bar=False, every_s=0.0)
    for done in range(1, 4):
        bar(done, 3, done * 10)
    bar.close()
    lines = out.getvalue().splitlines()
    assert [line.split(", ETA")[0] for line in lines] == [
        "export: 1/3 units, 10 fixes",
        "export: 2/3 units, 20 fixes",
        "export: 3/3 units, 30 fixes",
    ]
    assert "\r" not in out.getvalue()


def test_progress_bar_redraws_one_line_on_a_terminal():
    out = io.StringIO()
    bar = ProgressBar(out, "export", bar=True, every_s=0.0)
    bar(1, 4, 10)
    bar(4, 4, 40)
    bar.close()
    text = out.getvalue()
    assert text.startswith("\rexport ") and text.endswith("4/4 units, 40 fixes, ETA 00:00\n")
    assert text.count("\n") == 1  # one line, redrawn in place
    assert "1/4 units, 10 fixes" in text and "#" * 40 in text
