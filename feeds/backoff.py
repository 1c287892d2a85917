"""Retrying with back-off while a service (the database) is away: one policy
for the ingest and the dispatcher.

Waits double from ``first_s`` up to ``max_s`` seconds and are cut short by a
stop signal (anything with ``is_set()`` and ``wait(timeout_s) -> bool``, as
:class:`threading.Event`), so a worker told to stop never sleeps out a 15 s
wait. Tests inject a stop signal with a fake clock.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

T = TypeVar("T")

FIRST_S = 0.5
MAX_S = 15.0


class StopSignal(Protocol):
    """What :class:`threading.Event` offers a waiting worker."""

    def is_set(self) -> bool: ...

    def wait(self, timeout: float | None = None) -> bool: ...


class Backoff:
    """The waits of one retry loop: ``first_s``, twice that, ... capped at ``max_s``."""

    def __init__(self, stop: StopSignal, first_s: float = FIRST_S, max_s: float = MAX_S) -> None:
        if not 0 < first_s <= max_s:
            raise ValueError(f"need 0 < first_s <= max_s, got {first_s}, {max_s}")
        self.stop, self.first_s, self.max_s = stop, first_s, max_s
        self.delay_s = first_s

    def wait(self) -> bool:
        """Wait ``delay_s`` seconds (less if stopped), then double it up to
        ``max_s``. True when the loop should stop."""
        stopped = self.stop.wait(self.delay_s)
        self.delay_s = min(self.delay_s * 2, self.max_s)
        return stopped


def retry(
    attempt: Callable[[], T],
    *,
    retry_on: type[BaseException] | tuple[type[BaseException], ...],
    on_retry: Callable[[BaseException, float], None],
    stop: StopSignal,
    first_s: float = FIRST_S,
    max_s: float = MAX_S,
) -> T | None:
    """``attempt()``'s result, calling it again after each ``retry_on``
    exception: first ``on_retry(exc, delay_s)`` (log, close the broken
    connection), then a :class:`Backoff` wait. Other exceptions propagate at
    once. None if ``stop`` is set before an attempt or during a wait."""
    backoff = Backoff(stop, first_s, max_s)
    while not stop.is_set():
        try:
            return attempt()
        except retry_on as exc:
            on_retry(exc, backoff.delay_s)
            if backoff.wait():
                break
    return None
