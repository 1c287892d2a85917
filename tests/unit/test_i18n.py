from datetime import UTC, datetime, timedelta

from dashboard import views
from dashboard.layout.wall import alarm_strip, counters, header, incident_counts, legend


def texts(component) -> list[str]:
    """Every string in a component tree, depth first."""
    out = []
    children = getattr(component, "children", component)
    if isinstance(children, str):
        return [children]
    for child in children if isinstance(children, list) else [children]:
        if isinstance(child, str):
            out.append(child)
        elif child is not None:
            out += texts(child)
    return out


def test_the_wall_speaks_chinese_when_asked():
    assert "演示模式：模拟警力" in texts(header(True, "zh"))
    assert "在线" in texts(counters({"online": 3}, {"available": 3}, "zh")[0])
    assert "空闲" in texts(counters({"online": 3}, {"available": 3}, "zh")[1])
    assert "P1 待处警" in texts(incident_counts({1: 2}, "zh")[0])
    assert " 步巡" in texts(legend("zh"))
    assert texts(alarm_strip([], "zh")) == ["无告警"]


def test_english_is_the_default_and_untranslated_labels_stay_english():
    assert "DEMO MODE: simulated fleet" in texts(header(True))
    assert "P1 open" in texts(incident_counts({1: 2})[0])


def test_alarm_texts_in_chinese():
    now = datetime(2026, 11, 28, 2, 10, tzinfo=UTC)
    alarms = [
        {
            "kind": "emergency",
            "unit_id": "U1",
            "incident_id": None,
            "severity": 1,
            "raised_at": now - timedelta(seconds=5),
        }
    ]
    units = [{"id": "U1", "call_sign": "C-01", "fix_age_s": 700.0}]
    got = views.wall_alarms(alarms, units, now, 60, 600, "zh")
    assert [a["text"] for a in got] == ["紧急求助 C-01", "C-01 离线"]
    assert got[0]["fresh"] and got[0]["severity"] == 1
