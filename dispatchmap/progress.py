"""Progress of a long command on stderr, drawn by tqdm: a bar redrawn in place
on a terminal; on anything else (a log file) plain lines, at most one every
``every_s`` seconds and the last, so a log gets a readable record instead of
carriage returns."""

from __future__ import annotations

from typing import TextIO

from tqdm import tqdm

PLAIN_FORMAT = "{desc}: {n_fmt}/{total_fmt} {unit}{postfix}, ETA {remaining}"
BAR_FORMAT = "{desc} {bar} " + PLAIN_FORMAT.removeprefix("{desc}: ")


class _Lines:
    """A file for tqdm that turns each in-place redraw ("\\r" + text) into a
    line, once: closing redraws the last state, already shown if it was due."""

    def __init__(self, stream: TextIO) -> None:
        self.stream, self._last = stream, ""

    def write(self, text: str) -> None:
        line = text.strip("\r").rstrip()
        if line and line != self._last:
            self.stream.write(line + "\n")
            self._last = line

    def flush(self) -> None:
        self.stream.flush()


class ProgressBar:
    """Call with (done, total, rows) after each step: ``done`` of ``total``
    units of work (e.g. units read), ``rows`` read so far. The ETA assumes the
    work left goes at the average pace so far (tqdm's ``smoothing=0``)."""

    def __init__(
        self,
        stream: TextIO,
        label: str,
        bar: bool,
        unit: str = "units",
        rows: str = "fixes",
        every_s: float = 1.0,
    ) -> None:
        self._file = stream if bar else _Lines(stream)
        self._label, self._bar, self._unit, self._rows = label, bar, unit, rows
        self._every_s = every_s
        self._tqdm: tqdm[None] | None = None

    def __call__(self, done: int, total: int, rows: int) -> None:
        postfix = f"{rows:,} {self._rows}"
        if self._tqdm is None:  # made at the first step, when the total is known
            self._tqdm = tqdm(
                total=total,
                initial=done,
                desc=self._label,
                unit=self._unit,
                file=self._file,
                mininterval=self._every_s,
                miniters=1,
                smoothing=0,
                bar_format=BAR_FORMAT if self._bar else PLAIN_FORMAT,
                postfix=postfix,
                ascii=" #" if self._bar else None,
                ncols=80 if self._bar else None,
            )
            return
        self._tqdm.total = total
        self._tqdm.set_postfix_str(postfix, refresh=False)
        self._tqdm.update(done - self._tqdm.n)

    def close(self) -> None:
        """Show the last state and end the bar's line."""
        if self._tqdm is not None:
            self._tqdm.close()
            self._tqdm = None
