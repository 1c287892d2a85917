"""feeds.backoff timed with a fake clock: the waits it asks for, and when it stops."""

import pytest

from feeds.backoff import Backoff, retry


class FakeStop:
    """A stop signal whose waits advance a fake clock; set once the clock
    reaches ``stop_at_s`` (a wait that would pass it ends there)."""

    def __init__(self, stop_at_s: float = float("inf")) -> None:
        self.now_s, self.stop_at_s, self.waits = 0.0, stop_at_s, []

    def is_set(self) -> bool:
        return self.now_s >= self.stop_at_s

    def wait(self, timeout: float | None = None) -> bool:
        assert timeout is not None
        self.waits.append(timeout)
        self.now_s = min(self.now_s + timeout, self.stop_at_s)
        return self.is_set()


class Flaky:
    """Raises ``exc`` on the first ``failures`` calls, then returns "done"."""

    def __init__(self, failures: int, exc: Exception) -> None:
        self.failures, self.exc, self.calls = failures, exc, 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.exc
        return "done"


def test_waits_double_from_half_a_second_up_to_fifteen():
    stop, seen = FakeStop(), []
    work = Flaky(8, ConnectionError("down"))
    result = retry(work, retry_on=ConnectionError, on_retry=lambda e, d: seen.append(d), stop=stop)
    assert result == "done" and work.calls == 9
    assert stop.waits == [0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 15.0, 15.0]
    assert seen == stop.waits  # on_retry is told the wait that follows
    assert stop.now_s == 60.5


def test_success_at_once_neither_waits_nor_calls_on_retry():
    stop = FakeStop()
    assert retry(lambda: 7, retry_on=OSError, on_retry=pytest.fail, stop=stop) == 7
    assert stop.waits == []


def test_other_errors_propagate_without_a_wait():
    stop = FakeStop()
    with pytest.raises(ValueError, match="bad row"):
        retry(Flaky(1, ValueError("bad row")), retry_on=OSError, on_retry=pytest.fail, stop=stop)
    assert stop.waits == []


def test_a_stop_during_a_wait_ends_it_and_gives_none():
    stop = FakeStop(stop_at_s=2.0)  # after 0.5 + 1.0, inside the 2.0 wait
    work = Flaky(100, OSError("down"))
    assert retry(work, retry_on=OSError, on_retry=lambda e, d: None, stop=stop) is None
    assert work.calls == 3 and stop.waits == [0.5, 1.0, 2.0] and stop.now_s == 2.0


def test_stopped_before_the_first_attempt_runs_nothing():
    work = Flaky(0, OSError())
    assert retry(work, retry_on=OSError, on_retry=pytest.fail, stop=FakeStop(0.0)) is None
    assert work.calls == 0


def test_backoff_alone_with_its_own_bounds():
    stop = FakeStop()
    backoff = Backoff(stop, first_s=0.05, max_s=0.3)
    assert [backoff.wait() for _ in range(5)] == [False] * 5
    assert stop.waits == pytest.approx([0.05, 0.1, 0.2, 0.3, 0.3])
    with pytest.raises(ValueError, match="first_s"):
        Backoff(stop, first_s=2.0, max_s=1.0)
