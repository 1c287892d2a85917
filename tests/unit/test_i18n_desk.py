"""The desk in Chinese: every label the desk passes to ``t`` has a
translation, and a desk drawn in zh shows no English label (data such as
call signs stays as it is)."""

import ast
import re
from pathlib import Path

import pytest

from dashboard.i18n import ZH, message, t
from dashboard.layout import desk, desk_incident

ROOT = Path(__file__).resolve().parents[2]
DESK_SOURCES = (
    "dashboard/layout/desk.py",
    "dashboard/layout/desk_incident.py",
    "dashboard/layout/desk_alarms.py",
    "dashboard/layout/desk_units.py",
    "dashboard/layout/desk_edit.py",
    "dashboard/layout/fields.py",
    "dashboard/callbacks/desk.py",
    "dashboard/callbacks/desk_dispatch.py",
    "dashboard/callbacks/desk_incident.py",
    "dashboard/callbacks/desk_alarms.py",
    "dashboard/callbacks/desk_units.py",
)
LABEL_CALLS = {"t", "status_text", "message"}


def _literals(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    return []


def desk_labels() -> set[str]:
    """Every literal label the desk's sources translate, including the items
    of tuples iterated to build headers and options."""
    labels: set[str] = set()
    for source in DESK_SOURCES:
        tree = ast.parse((ROOT / source).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in LABEL_CALLS:
                labels.update(_literals(node.args[0]) if node.args else [])
            if isinstance(node, ast.comprehension) and isinstance(node.iter, ast.Tuple):
                labels.update(s for elt in node.iter.elts for s in _literals(elt))
    labels.update(s.replace("_", " ") for s in desk.UNIT_STATUSES)
    return labels - {"", "#"}


def test_every_desk_label_has_a_chinese_translation():
    labels = desk_labels()
    assert len(labels) > 55  # the walk above really found the desk's labels
    missing = sorted(label for label in labels if label not in ZH)
    assert missing == []


def strings(component) -> list[str]:
    """Every string a component tree shows: children, placeholders, titles and
    option labels."""
    out: list[str] = []
    if isinstance(component, str):
        return [component]
    if isinstance(component, list | tuple):
        return [s for child in component for s in strings(child)]
    if component is None or not hasattr(component, "to_plotly_json"):
        return out
    for prop in ("children", "placeholder", "title"):
        value = getattr(component, prop, None)
        if value is not None:
            out += strings(value)
    for option in getattr(component, "options", None) or []:
        out.append(option["label"] if isinstance(option, dict) else option)
    return out


# English a zh desk may show: the product name, data from the test rows, units.
DATA_WORDS = {"dispatchmap", "alice", "assault", "desk", "min", "km", "B1", "U001"}


def english_words(texts: list[str]) -> set[str]:
    return {
        word
        for text in texts
        for word in re.findall(r"[A-Za-z]{2,}", text)
        if word not in DATA_WORDS
    }


UNITS = [
    {
        "id": "U001",
        "call_sign": "C-01",
        "kind": "car",
        "status": "out_of_service",
        "beat": "B1",
        "presence": "no_fix",
        "talkgroup": "9101",
        "phone": "+358 50 010 0001",
    }
]
SUGGESTED = [
    {
        "unit_id": "U001",
        "call_sign": "C-01",
        "eta_s": 95.0,
        "road_distance_m": 640.0,
        "straight_distance_m": 410.0,
        "fix_age_s": 4.0,
        "coverage_pct": 92,
        "coverage_drop_pct": 6,
        "reasons": ["closest by ETA", "tied on ETA with C-02", "in the incident's beat"],
    }
]


def zh_desk() -> list[str]:
    types = [{"id": "assault", "name_en": "Assault", "name_zh": "殴打"}]
    page = desk.desk(
        user="alice",
        role="commander",
        types=types,
        roads={"type": "FeatureCollection", "features": []},
        beats={"type": "FeatureCollection", "features": []},
        bounds=None,
        tile_url=None,
        tile_attribution="",
        refresh_ms=1000,
        unit_options=[{"label": desk.unit_option_label(UNITS[0], "zh"), "value": "U001"}],
        dispositions=[{"id": "arrest", "name_en": "arrest", "name_zh": "抓获"}],
        lang="zh",
    )
    row = {"id": 7, "type": "assault", "priority": 1, "status": "dispatched"}
    row |= {"created_by": "desk:alice", "source": "desk", "beat": "B1", "notes": ""}
    queue = [{"id": 7, "priority": 1, "type_label": "Assault", "type_zh": "殴打"}]
    queue[0] |= {"status": "open", "waiting": "1:05", "units": "C-01:sent", "unassigned_p1": 1}
    orders = [{"call_sign": "C-01", "state": "acknowledged", "published_at": None}]
    cams = [{"name": "Cam 3", "stream_url": "rtsp://x", "distance_m": 40.0, "covers": True}]
    parts = [
        page,
        desk.queue_table(queue, "zh"),
        desk.unit_table(UNITS, "zh"),
        desk_incident.suggestions_table(SUGGESTED, "only 1 unit can be suggested", [], None, "zh"),
        desk_incident.details(row, "10:02:03", "zh"),
        desk_incident.orders_list(orders, "zh"),
        desk_incident.cameras_list(cams, "zh"),
    ]
    return [s for part in parts for s in strings(part)]


def test_the_desk_drawn_in_chinese_shows_no_english_label():
    shown = zh_desk()
    assert {"派警", "结案", "警情队列", "谁最快到场", "已签收", "停用"} <= set(shown)
    assert english_words(shown) <= {"Cam"}  # a camera's name is data


def test_the_desk_in_english_is_unchanged():
    assert desk.unit_option_label(UNITS[0]) == "C-01 (car, out of service)"
    assert t("Dispatch", "en") == "Dispatch"


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        ("must be between -90 and 90", "须在 -90 到 90 之间"),
        ("must be one of assault, other", "须为以下之一：assault, other"),
        ("dispatch is not allowed when onscene", "已到场状态不能派警"),
        ("2nd by ETA", "预计到达第 2"),
        ("something new", "something new"),
    ],
)
def test_messages_from_geo_in_chinese(english, chinese):
    assert message(english, "zh") == chinese
    assert message(english, "en") == english


def test_a_long_unit_list_is_cut_with_a_line_that_says_so():
    row = UNITS[0]
    many = [row | {"id": f"U{i}", "call_sign": f"C-{i:04d}"} for i in range(450)]
    table = desk.unit_table(many, "en")
    body = table.children[1:]
    assert len(body) == desk.MAX_LISTED_UNITS + 1
    assert strings(body[-1]) == ["Showing 200 of 450 units: search or filter to narrow the list"]
    assert strings(desk.unit_table(many, "zh").children[-1]) == [
        "显示 450 个警力中的 200 个：搜索或筛选以缩小列表"
    ]
    few = desk.unit_table(many[:3], "en")
    assert len(few.children) == 4 and "Showing" not in " ".join(strings(few))
