"""Labels in English and Chinese (``DM_DASH_LANGUAGE=zh``). Keys are the
English labels, so an untranslated label still reads in English."""

from __future__ import annotations

ZH = {
    "Beats": "巡区",
    "Camera view": "摄像头视野",
    "Cameras": "摄像头",
    "Station": "派出所",
    "Incidents": "警情",
    "Units": "警力",
    "Online": "在线",
    "Stale fix": "定位过时",
    "Offline": "离线",
    "car": "警车",
    "motorbike": "摩托",
    "foot": "步巡",
    "DEMO MODE: simulated fleet": "演示模式：模拟警力",
    "No alarms": "无告警",
    "online": "在线",
    "stale": "定位过时",
    "offline": "离线",
    "no fix": "无定位",
    "available": "空闲",
    "dispatched": "已派警",
    "acknowledged": "已签收",
    "enroute": "出警中",
    "onscene": "已到场",
    "busy": "忙碌",
    "out of service": "停用",
    "off duty": "下班",
    "open": "待处警",
    "EMERGENCY": "紧急求助",
    "not acknowledged": "未签收",
    "not en route": "未出警",
    "not on scene": "未到场",
    "feedback overdue": "反馈超时",
    "waiting for a unit": "等待派警",
    "wall": "指挥大屏",
}


def t(label: str, language: str) -> str:
    """``label`` in ``language`` ("en" or "zh")."""
    return ZH.get(label, label) if language == "zh" else label
