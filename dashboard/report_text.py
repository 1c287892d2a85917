"""The words of the incident report (``dashboard.report``), in English or
Chinese: its title lines, and the timeline, interval and suggestion rows as
lists of cells. Pure; times shown in the station's time zone."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from dashboard import i18n
from dashboard.views import ALARM_LABEL
from geo import event_data
from geo.incident_review import Review, centre_of

ZH = {
    "Incident": "警情",
    "Place": "地点",
    "near": "靠近",
    "beat": "巡区",
    "Created": "接警时间",
    "by": "操作",
    "via": "来源",
    "status": "状态",
    "110 id": "110编号",
    "Notes": "备注",
    "Timeline": "处警时间线",
    "Response intervals": "响应时间",
    "Suggested and sent": "推荐与派出",
    "interval": "区间",
    "actual": "实际",
    "target": "目标",
    "ok": "达标",
    "over": "超时",
    "more": "更多",
    "created": "接警",
    "suggestions shown": "推荐警力",
    "dispatched": "派警",
    "en route": "出警",
    "on scene": "到场",
    "cleared": "反馈",
    "cancelled": "取消",
    "closed": "结案",
    "alarm": "告警",
    "alarm cleared": "告警解除",
    "alarm taken": "告警已接",
    "updated": "警情更新",
    "refused": "拒绝",
    "override": "人工指派",
    "not sent": "未派出",
    "sent": "派出",
    "queue": "等待派警",
    "acknowledgement": "签收",
    "turnout": "出警准备",
    "travel": "途中",
    "response": "响应",
    "at scene": "现场处置",
    "no suggestion or dispatch logged": "无推荐或派警记录",
    "Map": "地图",
    "incident": "警情位置",
    "start": "起点",
    "end": "终点",
    "Window": "时段",
    "Generated": "生成时间",
    "Event log chain head": "事件日志哈希链头",
    "seq": "序号",
    "covers this incident's events to seq": "覆盖本警情事件至序号",
    "this incident has no event": "本警情无事件",
}
COVERS = "covers this incident's events to seq"
EVENT_LABEL = {
    "created": "created",
    "suggestions_shown": "suggestions shown",
    "dispatched": "dispatched",
    "acknowledged": "acknowledged",
    "enroute": "en route",
    "onscene": "on scene",
    "cleared": "cleared",
    "cancelled": "cancelled",
    "closed": "closed",
    "alarm_raised": "alarm",
    "alarm_cleared": "alarm cleared",
    "alarm_taken": "alarm taken",
    "updated": "updated",
    "transition_refused": "refused",
}
"""Event kinds on the report's timeline (``order_published`` is plumbing, left out)."""
INTERVAL_LABEL = {
    "queue_s": "queue",
    "ack_s": "acknowledgement",
    "turnout_s": "turnout",
    "travel_s": "travel",
    "response_s": "response",
    "on_scene_s": "at scene",
}


def t(label: str, language: str) -> str:
    """``label`` in ``language``: the report's words, then the wall's."""
    return ZH.get(label, i18n.t(label, language)) if language == "zh" else label


def duration(seconds: float | None) -> str:
    """``m:ss`` (``h:mm:ss`` from an hour); "–" for None; negative keeps its sign."""
    if seconds is None:
        return "–"
    sign, whole = ("-" if seconds < 0 else ""), round(abs(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, s = divmod(rest, 60)
    return f"{sign}{hours}:{minutes:02d}:{s:02d}" if hours else f"{sign}{minutes}:{s:02d}"


def local(at: datetime, tz: ZoneInfo, with_date: bool = False) -> str:
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S")


def more(count: int, language: str) -> str:
    return f"… {count} {t('more', language)}"


def title(incident: Mapping[str, Any], language: str) -> str:
    name = incident["name_zh"] if language == "zh" else incident["name_en"]
    return f"{t('Incident', language)} #{incident['id']} · {name} · P{incident['priority']}"


def place(incident: Mapping[str, Any], language: str) -> str:
    """Nearest named road, beat and coordinates (5 decimals, about a metre)."""
    parts = []
    if incident.get("road"):
        parts.append(
            f"{t('near', language)} {incident['road']} ({incident['road_distance_m']:.0f} m)"
        )
    if incident.get("beat"):
        parts.append(str(incident["beat"]))  # its name already says it is a beat
    lat, lon = incident["lat"], incident["lon"]
    parts.append(
        f"{abs(lat):.5f} {'N' if lat >= 0 else 'S'}, {abs(lon):.5f} {'E' if lon >= 0 else 'W'}"
    )
    return f"{t('Place', language)}: " + " · ".join(parts)


def _offset(at: datetime) -> str:
    z = at.strftime("%z")  # +0200
    return f"{z[:3]}:{z[3:5]}"


def created(incident: Mapping[str, Any], tz: ZoneInfo, language: str) -> str:
    at = incident["created_at"].astimezone(tz)
    line = (
        f"{t('Created', language)} {local(at, tz, True)} {tz.key} (UTC{_offset(at)}) · "
        f"{t('by', language)} {incident['created_by']} · {t('via', language)} {incident['source']}"
        f" · {t('status', language)} {t(incident['status'], language)}"
    )
    if incident.get("external_id"):
        line += f" · {t('110 id', language)} {incident['external_id']}"
    return line


def _what(e: Mapping[str, Any], language: str) -> str:
    data = event_data.data_of(e)
    what = t(EVENT_LABEL[e["kind"]], language)
    if e["kind"] == "dispatched":
        return f"{what} ({event_data.rank_text(data.get('rank')) or t('override', language)})"
    if e["kind"] in ("alarm_raised", "alarm_cleared", "alarm_taken"):
        alarm = str(data.get("alarm", ""))
        return f"{what}: {t(ALARM_LABEL.get(alarm, alarm.replace('_', ' ')), language)}"
    if e["kind"] == "transition_refused":
        return f"{what}: {data.get('action', '')} ({data.get('reason', '')})"
    if e["kind"] == "suggestions_shown":
        return f"{what} ({len(event_data.ranked_of(data))})"
    if e["kind"] == "updated":
        return f"{what}: {event_data.changes_text(data)}"
    if e["kind"] == "closed" and data.get("disposition"):
        return f"{what}: {event_data.closing_text(data, language)}"
    return what


def timeline_rows(
    events: Sequence[Mapping[str, Any]], tz: ZoneInfo, call_signs: Mapping[str, str], language: str
) -> list[list[str]]:
    """One row per event of :data:`EVENT_LABEL`: local time, what happened,
    the unit's call sign, and who did it (operator, terminal or system)."""
    return [
        [
            local(e["at"], tz),
            _what(e, language),
            call_signs.get(e["unit_id"], e["unit_id"]) if e.get("unit_id") else "",
            e["actor"],
        ]
        for e in events
        if e["kind"] in EVENT_LABEL
    ]


def interval_rows(
    intervals: Mapping[str, float | None], targets: Mapping[str, float | None], language: str
) -> list[list[str]]:
    """Each interval: label, actual, target and "ok" / "over" ("" when either is missing)."""
    rows = []
    for key, label in INTERVAL_LABEL.items():
        actual, target = intervals.get(key), targets.get(key)
        verdict = "" if actual is None or target is None else "ok" if actual <= target else "over"
        rows.append(
            [
                t(label, language),
                duration(actual),
                duration(target),
                t(verdict, language) if verdict else "",
            ]
        )
    return rows


def _shown_at_dispatch(events: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The suggestions on screen when the first unit was sent (the last shown
    before it), else the first shown; None if the desk never showed any."""
    shown = [e for e in events if e["kind"] == "suggestions_shown"]
    first_sent = next((e["at"] for e in events if e["kind"] == "dispatched"), None)
    before = [e for e in shown if first_sent is not None and e["at"] <= first_sent]
    return before[-1] if before else shown[0] if shown else None


def suggestion_rows(
    events: Sequence[Mapping[str, Any]], call_signs: Mapping[str, str], tz: ZoneInfo, language: str
) -> list[list[str]]:
    """Who the desk suggested (rank, call sign, ETA) and whether each was sent
    (when, by whom); then the units sent that were not suggested (override)."""
    sent = {}
    for e in events:
        if e["kind"] == "dispatched" and e["unit_id"] not in sent:
            sent[e["unit_id"]] = f"{t('sent', language)} {local(e['at'], tz)} {e['actor']}"
    shown = _shown_at_dispatch(events)
    ranked = event_data.ranked_of(event_data.data_of(shown)) if shown else []
    rows = [
        [
            f"#{n}",
            event_data.call_sign_of(r, call_signs),
            event_data.eta_text(r.get("eta_s")),
            sent.get(event_data.unit_of(r), t("not sent", language)),
        ]
        for n, r in enumerate(ranked, start=1)
    ]
    suggested = {event_data.unit_of(r) for r in ranked}
    rows += [
        ["–", call_signs.get(u, u), t("override", language), s]
        for u, s in sent.items()
        if u not in suggested
    ]
    return rows


def map_note(extent: tuple[float, float, float, float], language: str) -> str:
    """How the map is drawn (projection, its centre) and whose roads they are."""
    proj = centre_of(extent)
    centre = f"{proj.lat0:.4f} N, {proj.lon0:.4f} E"
    if language == "zh":
        return (
            f"地图：局部等距圆柱投影，中心 {centre}，经度方向按 cos {proj.lat0:.2f}° 缩放"
            " · 道路 © OpenStreetMap 贡献者"
        )
    return (
        f"Map: local equirectangular projection about {centre} (x scaled by "
        f"cos {proj.lat0:.2f}°) · roads © OpenStreetMap contributors"
    )


def footer(review: Review, tz: ZoneInfo, generated_at: datetime | None, language: str) -> str:
    span = f"{local(review.start, tz, True)} – {local(review.end, tz)}"
    window = f"{t('Window', language)} {span} {tz.key}"
    if generated_at is None:
        return f"dispatchmap · {window}"
    return f"dispatchmap · {window} · {t('Generated', language)} {local(generated_at, tz, True)}"


def chain_line(review: Review, language: str) -> str | None:
    """The event log's hash-chain head that covers the incident's events
    (seq and the first 12 hex digits of its SHA-256), to compare with
    `dispatchmap audit verify` later; None when the log was empty."""
    chain = review.chain
    if chain is None:
        return None
    if chain.incident_seq is None:
        covers = t("this incident has no event", language)
    else:
        covers = f"{t(COVERS, language)} {chain.incident_seq}"
    head = f"{t('seq', language)} {chain.head_seq} · sha256 {chain.short_hash}"
    return f"{t('Event log chain head', language)}: {head} · {covers}"
