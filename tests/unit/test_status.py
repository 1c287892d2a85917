import pytest

from geo.status import TRANSITIONS, Action, IllegalTransition, Status, next_status


def test_the_110_chain_from_available_back_to_available():
    status = Status.AVAILABLE
    for action in ["dispatch", "ack", "enroute", "onscene", "clear"]:
        status = next_status(status, action)
    assert status == Status.AVAILABLE


@pytest.mark.parametrize(
    ("status", "action"),
    [
        ("enroute", "clear"),  # cannot clear without having arrived
        ("dispatched", "clear"),
        ("available", "ack"),  # nothing to acknowledge
        ("available", "onscene"),
        ("onscene", "dispatch"),  # busy on a job
        ("off_duty", "dispatch"),
        ("out_of_service", "dispatch"),
        ("acknowledged", "ack"),  # a repeated key
    ],
)
def test_illegal_transitions_are_refused(status, action):
    with pytest.raises(IllegalTransition, match=f"{action} is not allowed when {status}"):
        next_status(status, action)


def test_unknown_names_are_errors_not_transitions():
    with pytest.raises(ValueError):
        next_status("flying", "ack")
    with pytest.raises(ValueError):
        next_status("available", "teleport")


def test_every_status_can_get_back_to_available():
    reachable = {Status.AVAILABLE}
    changed = True
    while changed:
        changed = False
        for (src, _), dst in TRANSITIONS.items():
            if dst in reachable and src not in reachable:
                reachable.add(src)
                changed = True
    assert reachable == set(Status)
    assert {a for (_, a) in TRANSITIONS} == set(Action)
