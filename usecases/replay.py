"""Load a replay window: the one use-case behind the replay page, its export
route (``/replay/export.<fmt>``) and ``dispatchmap replay-export``.

A window is [start, end] in UTC, optionally limited to an area
(min_lon, min_lat, max_lon, max_lat, WGS84 degrees): the roster units with a
fix inside it during the window (their whole tracks), the incidents inside
it, and the events of both (a unit's events follow it out of the area).
:func:`read_window` decides what a window holds; the page keeps it whole
(:func:`load_window`), the CLI streams its tracks a chunk of units at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import psycopg

from geo import queries
from geo.replay import StatusEvent, StatusTimeline, Track, event_status, incident_status_events
from geo.replay_window import events_of
from geo.retention import BBox
from geo.trails import TRAIL_TOLERANCE_M, Trail, trails_for
from store import replay as history

STATUS_LOOKBACK = timedelta(days=7)
"""How far before a window a unit's last status change is looked for."""

Progress = Callable[[int, int, int], object]
"""Called after each chunk with (units read, units in all, fixes read)."""


@dataclass(frozen=True)
class WindowRead:
    """What a window holds; its tracks are read by :meth:`tracks`."""

    start: datetime
    end: datetime
    area: BBox | None
    units: dict[str, dict[str, Any]]  # the roster at ``end``, by unit id
    incidents: list[dict[str, Any]]  # those existing in the window (inside the area)
    all_events: list[dict[str, Any]]  # every event of the window, area or not
    conn: psycopg.Connection

    def tracks(
        self, chunk_units: int | None = None, progress: Progress | None = None
    ) -> Iterator[dict[str, Track]]:
        """The tracks (one fix either side of the window), ``chunk_units``
        roster units a read in unit id order (None: all in one read; the
        chunks joined equal that one read). ``progress`` hears after each."""
        if chunk_units is not None and chunk_units < 1:
            raise ValueError(f"chunk_units must be >= 1, not {chunk_units}")
        ids = None if chunk_units is None else list(self.units)
        read = (self.start, self.end, self.area)
        return _track_chunks(self.conn, read, ids, chunk_units or 1, progress)

    def events(self, unit_ids: Iterable[str]) -> list[dict[str, Any]]:
        """The window's events, oldest first; with an area those of its
        incidents and of ``unit_ids`` (the units it replays)."""
        if self.area is None:
            return self.all_events
        return events_of(self.all_events, {i["id"] for i in self.incidents}, set(unit_ids))

    def call_signs(self) -> dict[str, str]:
        """Unit id -> call sign, for the exports."""
        return {u: row["call_sign"] for u, row in self.units.items()}


def _track_chunks(
    conn: psycopg.Connection,
    read: tuple[datetime, datetime, BBox | None],
    unit_ids: Sequence[str] | None,
    chunk_units: int,
    progress: Progress | None,
) -> Iterator[dict[str, Track]]:
    start, end, area = read
    if unit_ids is None:  # one read of the whole roster
        tracks = history.track_window(conn, start, end, bbox=area)
        if progress is not None:
            progress(len(tracks), len(tracks), sum(len(t) for t in tracks.values()))
        yield tracks
        return
    ordered, fixes = sorted(unit_ids), 0
    for i in range(0, len(ordered), chunk_units):
        chunk = ordered[i : i + chunk_units]
        tracks = history.track_window(conn, start, end, unit_ids=chunk, bbox=area)
        fixes += sum(len(t) for t in tracks.values())
        if progress is not None:
            progress(i + len(chunk), len(ordered), fixes)
        yield tracks


def read_window(
    conn: psycopg.Connection, start: datetime, end: datetime, area: BBox | None = None
) -> WindowRead:
    """The window [start, end] (UTC) limited to ``area``: the roster,
    incidents and events read now, the tracks by :meth:`WindowRead.tracks`
    (on ``conn``, which must stay open until they are read)."""
    units = {u["id"]: u for u in queries.unit_positions(conn, end)}
    incidents = history.window_incidents(conn, start, end, area)
    events = history.window_events(conn, start, end)
    return WindowRead(start, end, area, units, incidents, events, conn)


class Loaded(NamedTuple):
    """One window as the replay page keeps it: what every moment of it needs.
    With an area, ``tracks`` are the units with a fix in it, ``incidents``
    those inside it, ``events`` theirs and the replayed units'."""

    start: datetime
    end: datetime
    area: BBox | None
    tracks: dict[str, Track]
    trails: dict[str, Trail]
    statuses: StatusTimeline
    units: dict[str, dict[str, Any]]
    events: list[dict[str, Any]]
    incidents: list[dict[str, Any]]
    incident_statuses: StatusTimeline

    def listed_units(self) -> dict[str, dict[str, Any]]:
        """The roster, or with an area only the units it replays."""
        if self.area is None:
            return self.units
        return {u: row for u, row in self.units.items() if u in self.tracks}

    def call_signs(self) -> dict[str, str]:
        """Unit id -> call sign, for the exports and the timeline."""
        return {u: row["call_sign"] for u, row in self.units.items()}

    def timeline_events(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Incident events for the timeline: with an area, of its incidents only."""
        inside = {i["id"] for i in self.incidents}
        return [
            e
            for e in events
            if e["incident_id"] is not None and (self.area is None or e["incident_id"] in inside)
        ]


def _unit_statuses(changes: Iterable[dict[str, Any]]) -> StatusTimeline:
    return StatusTimeline(
        StatusEvent(e["at"], e["unit_id"], status)
        for e in changes
        if e["unit_id"] and (status := event_status(e["kind"], e["data"]))
    )


def load_window(
    conn: psycopg.Connection,
    start: datetime,
    end: datetime,
    area: BBox | None,
    stale_s: float,
) -> Loaded:
    """The page's loader: :func:`read_window` in one read, with the trails
    (cut at gaps over ``stale_s`` seconds, thinned once), the units' status
    at every moment (from their last change up to :data:`STATUS_LOOKBACK`
    before ``start``) and the incidents' status."""
    read = read_window(conn, start, end, area)
    tracks = next(read.tracks())
    before = history.status_before(conn, start, start - STATUS_LOOKBACK)
    changes = history.incident_changes(conn, [i["id"] for i in read.incidents], end)
    return Loaded(
        start,
        end,
        area,
        tracks,
        trails_for(tracks, stale_s, TRAIL_TOLERANCE_M),
        _unit_statuses([*before, *read.all_events]),
        read.units,
        read.events(tracks),
        read.incidents,
        StatusTimeline(incident_status_events(changes)),
    )
