"""The desk and the wall in Chinese (``DM_DASH_LANGUAGE=zh``) in a real
Chromium: headings, buttons, column names and a refusal next to its field."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from dashboard import ids
from dispatchmap.settings import DashboardSettings
from feeds.pipeline import Limits, Message, Pipeline
from feeds.topics import Topics
from feeds.writer import Writer, ingest_batch
from geo.intake import NewIncident
from tests.helpers import served_dashboard
from usecases import incidents as inc

SCENE = (24.9452, 60.1690)


@pytest.fixture
def dashboard_url(db_url: str) -> Iterator[str]:
    """This module's dashboard speaks Chinese (overrides conftest's)."""
    settings = DashboardSettings(refresh_ms=500, demo=True, language="zh")
    with served_dashboard(db_url, settings) as url:
        yield url


def an_incident_and_a_unit(db_url: str) -> int:
    now = datetime.now(UTC).replace(microsecond=0)
    body = json.dumps(
        {"lat": 60.1690, "lon": 24.9440, "ts": (now - timedelta(seconds=2)).isoformat()}
    ).encode()
    with psycopg.connect(db_url) as conn, conn.transaction():
        ingest_batch(
            conn, Pipeline(Topics(), Limits()), Writer(), [Message("dm/gps/trk-c01", body, now)]
        )
        incident_id = inc.create_incident(
            conn, NewIncident("assault", 1, *SCENE, now, "", None), "110", "110", now
        )
    assert incident_id is not None
    return incident_id


def test_the_desk_in_chinese(page, sign_in, dashboard_url, db_url, artifacts):
    incident_id = an_incident_and_a_unit(db_url)
    sign_in(page, "dispatcher")
    page.wait_for_url(f"{dashboard_url}/desk")
    page.get_by_role("heading", name="警情队列").wait_for(timeout=20000)
    page.click(f"#{ids.NEW_CREATE}")  # nothing chosen: refused next to the type field
    page.locator("#new-type-error").get_by_text("须为以下之一").wait_for(timeout=20000)
    page.get_by_text("警情未创建：请查看标出的栏目。").wait_for(timeout=10000)
    suggestions = page.locator(f"#{ids.DESK_SUGGESTIONS}")
    dispatch = suggestions.get_by_role("button", name="派警", exact=True).first
    # One click: the queue keeps its rows while its waiting times move.
    page.get_by_role("button", name=f"#{incident_id}").click()
    dispatch.wait_for(timeout=20000)
    assert page.get_by_role("button", name="结案").count() == 1
    assert page.locator(f"label[for={ids.DESK_DISPOSITION}]").inner_text() == "处理结果"
    queue = page.locator(f"#{ids.DESK_QUEUE}").inner_text()
    assert "殴打" in queue and "待处警" in queue and "等待" in queue
    assert "预计最快到达" in suggestions.inner_text()
    page.screenshot(path=str(artifacts / "desk-zh.png"))
    dispatch.click()
    page.get_by_text("等待签收").wait_for(timeout=20000)


def test_the_wall_shift_panel_in_chinese(page, dashboard_url, artifacts):
    page.goto(f"{dashboard_url}/wall")
    page.locator(".shift-title").get_by_text("本班").wait_for(timeout=20000)
    panel = page.locator(".wall-shift").inner_text()
    assert "30 秒内签收" in panel and "每小时警情" in panel and "到场用时" in panel
    page.screenshot(path=str(artifacts / "wall-zh.png"))
