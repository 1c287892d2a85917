"""The replay page's window store (``ids.REPLAY_WINDOW``): written by
:func:`window_data`, read back by :func:`window`, which refuses (as
:class:`dashboard.checks.BadInput`, a 400 with an audit row) any store no
page writes: a forged week would otherwise be read into memory whole.
:class:`WindowCache` keeps the last windows loaded in this process."""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime
from typing import Any

from dashboard import checks
from dashboard import replay_views as rviews
from dashboard.deps import Deps
from geo import replay_window
from store import incidents as incident_store
from usecases.replay import Loaded, load_window

CACHED_WINDOWS = 4

Window = tuple[datetime, datetime, rviews.Area | None]
WINDOW_KEYS = ("start", "end", "incident_id", "area")


def window(data: Any) -> Window | None:
    """The window in the page's store (see :func:`window_data`); None when
    there is none yet. Raises :class:`checks.BadInput` for a store no page
    writes: times that are not ISO 8601 with an offset, a window over
    :data:`geo.replay_window.MAX_WINDOW_S`, an area that is not one, an
    incident id that is not a positive integer."""
    if data is None:
        return None
    stored = checks.fields(data, "window", WINDOW_KEYS, ("same_times",))
    start, end = checks.window(stored["start"], stored["end"], replay_window.MAX_WINDOW_S)
    if stored["incident_id"] is not None:
        checks.integer(stored["incident_id"], "incident_id", 1)
    checks.flag(stored.get("same_times"), "same_times")
    return start, end, checks.area(stored["area"])


def incident_log(deps: Deps, incident_id: Any) -> list[dict[str, Any]]:
    """The event log of an incident the browser named; :class:`checks.BadInput`
    unless it is the id of an incident (every incident has its ``created``)."""
    found = checks.integer(incident_id, "incident_id", 1)
    with deps.read() as conn:
        log = incident_store.incident_events(conn, found)
    if not log:
        raise checks.BadInput("incident_id", "no such incident", incident_id)
    return log


def window_data(
    start: datetime, end: datetime, incident_id: int | None, area: list[float] | None
) -> dict[str, Any]:
    """What the store holds: the window's ends (ISO 8601, UTC), the incident
    it replays (or None) and the area it is limited to (or None)."""
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "incident_id": incident_id,
        "area": area,
    }


class WindowCache:
    """The last few windows loaded (:func:`usecases.replay.load_window`),
    per process (a worker loads its own), keyed by window and area."""

    def __init__(self, deps: Deps, size: int = CACHED_WINDOWS) -> None:
        self._deps, self._size = deps, size
        self._windows: OrderedDict[tuple[str, str, str], Loaded] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, start: datetime, end: datetime, area: rviews.Area | None = None) -> Loaded:
        """The window [start, end] (UTC) limited to ``area``, read on first use."""
        key = (start.isoformat(), end.isoformat(), rviews.area_text(area) if area else "")
        with self._lock:  # two callbacks of one new window must not both read it
            if key not in self._windows:
                with self._deps.read() as conn:
                    stale_s = self._deps.presence.stale_s
                    self._windows[key] = load_window(conn, start, end, area, stale_s)
                while len(self._windows) > self._size:
                    self._windows.popitem(last=False)
            self._windows.move_to_end(key)
            return self._windows[key]
