"""The unit status model of the 110 chain, as a pure state machine.

available → dispatched → acknowledged (签收) → enroute (出警) → onscene (到场)
→ cleared (反馈) → available; plus busy, out of service, off duty. A unit
cannot clear without having arrived, and a status key pressed out of order is
refused (and recorded by the caller), never applied.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    AVAILABLE = "available"
    DISPATCHED = "dispatched"
    ACKNOWLEDGED = "acknowledged"
    ENROUTE = "enroute"
    ONSCENE = "onscene"
    BUSY = "busy"
    OUT_OF_SERVICE = "out_of_service"
    OFF_DUTY = "off_duty"


class Action(StrEnum):
    """What can happen to a unit: desk actions, terminal keys, detections."""

    DISPATCH = "dispatch"
    ACK = "ack"
    ENROUTE = "enroute"
    ONSCENE = "onscene"
    CLEAR = "clear"
    CANCEL = "cancel"
    BUSY = "busy"
    AVAILABLE = "available"
    OUT_OF_SERVICE = "out_of_service"
    OFF_DUTY = "off_duty"


S, A = Status, Action
# (status, action) -> new status. Anything not listed is illegal.
TRANSITIONS: dict[tuple[Status, Action], Status] = {
    (S.AVAILABLE, A.DISPATCH): S.DISPATCHED,
    (S.DISPATCHED, A.ACK): S.ACKNOWLEDGED,
    (S.DISPATCHED, A.ENROUTE): S.ENROUTE,  # a crew that drives off at once has signed too
    (S.ACKNOWLEDGED, A.ENROUTE): S.ENROUTE,
    (S.ENROUTE, A.ONSCENE): S.ONSCENE,
    (S.ONSCENE, A.CLEAR): S.AVAILABLE,
    (S.ONSCENE, A.BUSY): S.BUSY,
    (S.DISPATCHED, A.CANCEL): S.AVAILABLE,
    (S.ACKNOWLEDGED, A.CANCEL): S.AVAILABLE,
    (S.ENROUTE, A.CANCEL): S.AVAILABLE,
    (S.AVAILABLE, A.BUSY): S.BUSY,
    (S.BUSY, A.AVAILABLE): S.AVAILABLE,
    (S.BUSY, A.CLEAR): S.AVAILABLE,
    (S.AVAILABLE, A.OUT_OF_SERVICE): S.OUT_OF_SERVICE,
    (S.BUSY, A.OUT_OF_SERVICE): S.OUT_OF_SERVICE,
    (S.OUT_OF_SERVICE, A.AVAILABLE): S.AVAILABLE,
    (S.AVAILABLE, A.OFF_DUTY): S.OFF_DUTY,
    (S.OUT_OF_SERVICE, A.OFF_DUTY): S.OFF_DUTY,
    (S.OFF_DUTY, A.AVAILABLE): S.AVAILABLE,
}

# The order state a unit's status means while it works an order.
ORDER_STATE = {
    S.DISPATCHED: "sent",
    S.ACKNOWLEDGED: "acknowledged",
    S.ENROUTE: "enroute",
    S.ONSCENE: "onscene",
}
# The event kind each action writes to the log when it is applied.
EVENT_KIND = {
    A.DISPATCH: "dispatched",
    A.ACK: "acknowledged",
    A.ENROUTE: "enroute",
    A.ONSCENE: "onscene",
    A.CLEAR: "cleared",
    A.CANCEL: "cancelled",
    A.BUSY: "busy",
    A.AVAILABLE: "available",
    A.OUT_OF_SERVICE: "out_of_service",
    A.OFF_DUTY: "off_duty",
}
# Terminal status keys (dm/status ``state``, dm/acks ``state``) -> actions.
KEY_ACTION = {
    "ack": A.ACK,
    "enroute": A.ENROUTE,
    "onscene": A.ONSCENE,
    "clear": A.CLEAR,
    "busy": A.BUSY,
    "available": A.AVAILABLE,
}


class IllegalTransition(ValueError):
    """``action`` is not allowed from ``status``; the message says what was tried."""

    def __init__(self, status: Status, action: Action) -> None:
        super().__init__(f"{action.value} is not allowed when {status.value}")
        self.status = status
        self.action = action


def next_status(status: str, action: str) -> Status:
    """The status after ``action``, or :class:`IllegalTransition`.

    Unknown names raise ``ValueError`` (they are a caller's bug or bad input).
    """
    current, act = Status(status), Action(action)
    try:
        return TRANSITIONS[(current, act)]
    except KeyError:
        raise IllegalTransition(current, act) from None


def is_available(status: str) -> bool:
    """Whether a unit in ``status`` may be suggested for a new incident."""
    return status == S.AVAILABLE


# What a person may set by hand on the desk -> the action it is. Meal is
# busy with "meal" as its reason (one status, so availability stays simple).
MANUAL = {
    "available": A.AVAILABLE,
    "busy": A.BUSY,
    "meal": A.BUSY,
    "out_of_service": A.OUT_OF_SERVICE,
    "off_duty": A.OFF_DUTY,
}
NEEDS_REASON = frozenset({"busy", "out_of_service"})
MAX_REASON = 200


class ManualStatusError(ValueError):
    """A refused status change by hand; ``field`` is "status" or "reason"."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def manual_change(choice: object, reason: object) -> tuple[Action, str | None]:
    """(action, reason to keep) for a status chosen by hand (a key of
    :data:`MANUAL`): busy and out of service need a reason (with what, why),
    meal is busy with "meal" unless a reason says more; a reason is text of
    at most ``MAX_REASON`` characters, blank reads as none."""
    if not isinstance(choice, str) or choice not in MANUAL:
        raise ManualStatusError("status", "choose a status")
    if reason is not None and (not isinstance(reason, str) or len(reason) > MAX_REASON):
        raise ManualStatusError("reason", f"must be text of at most {MAX_REASON} characters")
    text = (reason or "").strip() or None
    if text is not None and "\x00" in text:
        raise ManualStatusError("reason", f"must be text of at most {MAX_REASON} characters")
    if choice == "meal":
        text = "meal" if text is None else f"meal: {text}"
    if choice in NEEDS_REASON and text is None:
        raise ManualStatusError("reason", "say what for")
    return MANUAL[choice], text
