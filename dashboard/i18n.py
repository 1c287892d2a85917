"""Labels in English and Chinese (``DM_DASH_LANGUAGE=zh``). Keys are the
English labels, so an untranslated label still reads in English. A label may
hold ``{name}`` fields, filled by :func:`t`'s keyword arguments.

The desk's terms follow the 110 chain (DOMAIN.md): 接警 intake, 派警 order
issued, 签收 acknowledged, 出警 en route, 到场 on scene, 处置 handling,
反馈 feedback, 结案 closed.
"""

from __future__ import annotations

import re

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
    "{count} units stale": "{count} 个警力定位过时",
    "Showing {shown} of {total} units: search or filter to narrow the list": (
        "显示 {total} 个警力中的 {shown} 个：搜索或筛选以缩小列表"
    ),
    "{count} units offline": "{count} 个警力离线",
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
    "outside beat": "离开巡区",
    "welfare check": "安全确认",
    "camera dark": "摄像头无画面",
    "no signal": "无信号",
    "unreachable": "无法连接",
    "unchecked": "未检查",
    "Camera health": "摄像头状态",
    "Pictures": "实时画面",
    "seeing the spot first": "先看现场",
    "along the escape routes (3 min)": "沿逃离路线（3 分钟）",
    "by car": "驾车",
    "on foot": "步行",
    "Pictures need the view_video right": "查看画面需要 view_video 权限",
    "No camera near the incident": "警情附近没有摄像头",
    "wall": "指挥大屏",
    # the wall's shift panel
    "Shift since {time}": "本班 {time} 起",
    "acknowledged ≤ 30 s": "30 秒内签收",
    "P1–P2 on scene ≤ 5 min": "P1–P2 5 分钟内到场",
    "Incidents per hour": "每小时警情",
    "Acknowledgement time (签收), s": "签收用时（秒）",
    "Time to scene (到场), min": "到场用时（分钟）",
    "on scene": "已到场",
    # devices tied to no unit, on both maps (callbacks/devices.py)
    "Untied devices": "未绑定终端",
    "{more} more untied devices not shown": "另有 {more} 个未绑定终端未显示",
    "not on the roster": "不在名册",
    "no unit": "未绑定警力",
    "last fix": "最后定位",
}

# The desk (dashboard/layout/desk.py and callbacks/desk.py).
ZH_DESK = {
    "desk": "接处警台",
    "Sign out": "退出登录",
    "dispatcher": "调度员",
    "commander": "指挥长",
    "reviewer": "复核员",
    "admin": "管理员",
    "New incident (接警): click the map for the place": "接警：新建警情（点击地图选定位置）",
    "Type": "类型",
    "Priority": "优先级",
    "type default": "按类型默认",
    "Latitude": "纬度",
    "Longitude": "经度",
    "Notes": "备注",
    "Create incident": "创建警情",
    "Incident queue": "警情队列",
    "P": "级",
    "Status": "状态",
    "Waiting": "等待",
    "Unit": "警力",
    "Kind": "类型",
    "Beat": "巡区",
    "Presence": "在线状态",
    "Talkgroup": "通话组",
    "Phone": "电话",
    "call sign, talkgroup…": "呼号、通话组…",
    "kind": "类型",
    "status": "状态",
    "Who gets there first": "谁最快到场",
    "any unit (override)": "任选警力（改派）",
    "Send": "指定派警",
    "Orders": "派警单",
    "Close incident": "结案",
    "Coverage if sent": "派出后覆盖",
    "Share of the road network the other available vehicles still reach within "
    "the target time if this unit goes": "该警力派出后，其余空闲车辆在目标时间内仍可到达的道路比例",
    "ETA": "预计到达",
    "Road": "路程",
    "Line": "直线",
    "Fix": "定位",
    "Why": "理由",
    "Dispatch": "派警",
    "Stale fix, not suggested: ": "定位过时，未推荐：",
    "created {time} by {who} ({source}); beat {beat}": (
        "{time} 由 {who} 创建（{source}）；巡区 {beat}"
    ),
    "sent": "已派警",
    "cleared": "已反馈",
    "cancelled": "已取消",
    "closed": "已结案",
    " (not yet sent to terminal)": "（尚未送达终端）",
    " · sees the incident": " · 可见现场",
    "Select an incident in the queue.": "请在队列中选择警情。",
    "Incident not created: see the marked field.": "警情未创建：请查看标出的栏目。",
    "Incident #{id} created.": "警情 #{id} 已创建（接警）。",
    "Choose an incident and a unit first.": "请先选择警情和警力。",
    "Select an incident first.": "请先选择警情。",
    "Incident #{id} closed.": "警情 #{id} 已结案。",
    "It was closed already.": "该警情已结案。",
    "Not closed: see the marked field.": "未结案：请查看标出的栏目。",
    "Alarms": "告警",
    "Change incident": "修改警情",
    "Save changes": "保存修改",
    "Nothing to change.": "没有需要修改的内容。",
    "Not changed: incident #{id} is closed or unknown.": "未修改：警情 #{id} 已结案或不存在。",
    "Not changed: {field} {reason}.": "未修改：{field} {reason}。",
    "Incident #{id} changed; the units on it are told.": "警情 #{id} 已修改，已通知处警警力。",
    "Unit status": "警力状态",
    "Set status": "设置状态",
    "Reason": "原因",
    "meal": "用餐",
    "since {time}": "自 {time}",
    "Status of {unit}: {status}.": "{unit} 状态：{status}。",
    "Not set: see the marked field.": "未设置：请查看标出的栏目。",
    "Not set: {reason}.": "未设置：{reason}。",
    "choose a status": "请选择状态",
    "say what for": "请说明原因",
    "must be text of at most 200 characters": "须为不超过 200 字的文本",
    "Take": "接警",
    "taken by {who}": "{who} 已接",
    "Alarm taken by {who}.": "告警已由 {who} 接收。",
    "That alarm was taken already or has ended.": "该告警已被接收或已结束。",
    "Disposition": "处理结果",
    "Result": "处警反馈",
    "choose how the incident ended": "请选择处理结果",
    "write the result": "请填写处警反馈",
    "Not sent: {reason}.": "未派警：{reason}。",
    "reading from the primary ({why})": "读主库（{why}）",
    "No incident #{id}.": "无警情 #{id}。",
    "Order {order} sent to {unit} as an override; waiting for 签收 (acknowledgement).": (
        "派警单 {order} 已改派给 {unit}，等待签收。"
    ),
    "Not sent: incident #{id} is {status}.": "未派警：警情 #{id} {status}。",
    "Not sent: {unit} is not among the current suggestions shown to you; "
    "sending it needs the override right.": (
        "未派警：{unit} 不在当前向您显示的推荐中；改派需要改派权限。"
    ),
    "Not sent: no unit {unit}.": "未派警：无警力 {unit}。",
    "Not sent: those suggestions are not on record; select the incident again.": (
        "未派警：这些推荐没有记录，请重新选择警情。"
    ),
    "Order {order} sent to {unit}; waiting for 签收 (acknowledgement).": (
        "派警单 {order} 已发给 {unit}，等待签收。"
    ),
    # refusals of the new-incident form (geo/intake.py), shown next to the field
    "is not a number": "不是数字",
    "is required and must be a number": "必填，且须为数字",
    "must be between -90 and 90": "须在 -90 到 90 之间",
    "must be between -180 and 180": "须在 -180 到 180 之间",
    "must be 1, 2, 3 or 4": "须为 1、2、3 或 4",
    "must be text of at most 2000 characters": "须为不超过 2000 字的文本",
    # suggestions' reasons and shortfalls (geo/dispatch.py)
    "closest by ETA": "预计最快到达",
    "in the incident's beat": "在警情所在巡区",
    "no unit available": "无空闲警力",
    "all eligible units have stale fixes": "符合条件的警力定位均已过时",
    "no eligible unit has a position fix": "符合条件的警力均无定位",
    "no unit can reach the incident by road": "无警力可经道路到达",
    "dispatch": "派警",
    # the sign-in page (dashboard/signin.py)
    "Wrong name or password.": "用户名或密码错误。",
    "Name: at most {count} characters.": "用户名最多 {count} 个字符。",
    "Too many failed sign-ins: try again in {seconds} s.": (
        "登录失败次数过多：请 {seconds} 秒后再试。"
    ),
    "The server is busy checking other sign-ins: try again.": (
        "服务器正忙于核验其他登录：请稍后再试。"
    ),
}
ZH.update(ZH_DESK)

# Messages from geo that carry data: (pattern, Chinese template of its groups).
_PATTERNS = (
    (re.compile(r"must be one of (.+)"), "须为以下之一：{0}"),
    (re.compile(r"(\d+)(?:st|nd|rd|th) by ETA"), "预计到达第 {0}"),
    (re.compile(r"tied on ETA with (.+)"), "与 {0} 预计到达相同"),
    (re.compile(r"only (\d+) units? can be suggested(.*)"), "仅 {0} 个警力可推荐{1}"),
    (re.compile(r"(\w+) is not allowed when (\w+)"), "{1}状态不能{0}"),
)


def t(label: str, language: str, **values: object) -> str:
    """``label`` in ``language`` ("en" or "zh"), its ``{fields}`` filled from ``values``."""
    text = ZH.get(label, label) if language == "zh" else label
    return text.format(**values) if values else text


def message(text: str, language: str) -> str:
    """A message from geo (a refusal, a reason) in ``language``: a known one
    whole, else one of the known shapes with its data kept, else as it is."""
    if language != "zh" or text in ZH:
        return t(text, language)
    for pattern, template in _PATTERNS:
        found = pattern.fullmatch(text)
        if found:
            return template.format(*(ZH.get(g, g) for g in found.groups()))
    return text
