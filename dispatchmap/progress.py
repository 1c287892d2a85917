"""Progress of a long command on stderr: a bar redrawn in place on a terminal,
plain lines (at most one every ``every_s`` seconds, and the last) otherwise,
so a log file gets a readable record instead of carriage returns."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO


def clock_text(seconds: float) -> str:
    """``m:ss`` (``h:mm:ss`` from an hour), whole seconds rounded up."""
    whole = int(-(-seconds // 1))
    hours, rest = divmod(whole, 3600)
    minutes, s = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{s:02d}" if hours else f"{minutes}:{s:02d}"


class ProgressBar:
    """Call with (done, total, rows) after each step: ``done`` of ``total``
    units of work (e.g. units read), ``rows`` read so far. The ETA assumes
    the work left goes at the pace so far."""

    def __init__(
        self,
        stream: TextIO,
        label: str,
        bar: bool,
        unit: str = "units",
        rows: str = "fixes",
        every_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        width: int = 30,
    ) -> None:
        self._stream, self._label, self._bar = stream, label, bar
        self._unit, self._rows, self._every_s = unit, rows, every_s
        self._clock, self._width = clock, width
        self._started = clock()
        self._last_line: float | None = None
        self._drawn = False

    def eta_s(self, done: int, total: int) -> float | None:
        """Seconds left at the pace so far; None before anything is done."""
        if done <= 0:
            return None
        return (self._clock() - self._started) * (total - done) / done

    def _text(self, done: int, total: int, rows: int) -> str:
        eta = self.eta_s(done, total)
        left = "ETA –" if eta is None else f"ETA {clock_text(eta)}"
        return f"{done}/{total} {self._unit}, {rows:,} {self._rows}, {left}"

    def __call__(self, done: int, total: int, rows: int) -> None:
        text = self._text(done, total, rows)
        if self._bar:
            filled = self._width * done // total if total else self._width
            bar = "#" * filled + "." * (self._width - filled)
            self._stream.write(f"\r{self._label} [{bar}] {text}\x1b[K")
            self._drawn = True
        else:
            now = self._clock()
            last = self._last_line
            if last is None or now - last >= self._every_s or done >= total:
                self._stream.write(f"{self._label}: {text}\n")
                self._last_line = now
        self._stream.flush()

    def close(self) -> None:
        """End the bar's line (plain lines need nothing)."""
        if self._drawn:
            self._stream.write("\n")
            self._stream.flush()
            self._drawn = False
