"""``dispatchmap replay-export``: a replay window as GeoJSON or CSV (what the
replay page's export links give), or an incident's one-page PDF report.

Tracks are read :data:`CHUNK_UNITS` units at a time and written as they come
(the same bytes as one read of the whole window), so memory stays bounded by
a chunk and a progress bar can say how far the export is.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from zoneinfo import ZoneInfo

from dispatchmap.commands import UsageError, database_url, dispatch_thresholds

if TYPE_CHECKING:
    import psycopg

    from dispatchmap.progress import ProgressBar
    from geo.replay import Track

CHUNK_UNITS = 25
PROGRESS_STEPS = 20
"""Chunks are at most CHUNK_UNITS units, and small enough that the progress
moves in about PROGRESS_STEPS steps even for a small roster."""
MAX_WINDOW = timedelta(hours=24)
"""Longest window exported at once: a chunk holds its units' whole window."""
FORMATS = {
    ".geojson": "geojson",
    ".json": "geojson",
    ".csv": "csv",
    ".pdf": "pdf",
    ".gpkg": "gpkg",
}


def export_format(given: str | None, out: Path | None) -> str:
    """``--format``, else inferred from the ``--out`` suffix, else geojson."""
    if given:
        return given
    if out is None:
        return "geojson"
    if out.suffix.lower() not in FORMATS:
        raise UsageError(
            f"cannot tell the format of {out.name!r}: give --format geojson|csv|gpkg|pdf"
        )
    return FORMATS[out.suffix.lower()]


def check_arguments(args: argparse.Namespace, fmt: str) -> None:
    """Refuse combinations argparse cannot express, with what to do instead."""
    if args.start is not None and args.end is None:
        raise UsageError("--start needs --end")
    if args.end is not None and args.start is None:
        raise UsageError("--end goes with --start (an incident's window comes from its log)")
    if fmt == "pdf" and args.incident is None:
        raise UsageError("a PDF is an incident report: give --incident ID")
    if fmt == "pdf" and args.out is None:
        raise UsageError("a PDF needs --out FILE")
    if fmt == "gpkg" and args.out is None:
        raise UsageError("a GeoPackage needs --out FILE")


def station_window(start: datetime, end: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """``--start``/``--end`` as UTC; a time without an offset is station time.
    Raises UsageError for an empty, reversed or too long window."""
    t1, t2 = (t if t.tzinfo else t.replace(tzinfo=tz) for t in (start, end))
    t1, t2 = t1.astimezone(UTC), t2.astimezone(UTC)
    if t2 <= t1:
        raise UsageError(
            f"--end ({t2:%Y-%m-%dT%H:%M:%SZ}) must be after --start ({t1:%Y-%m-%dT%H:%M:%SZ})"
        )
    if t2 - t1 > MAX_WINDOW:
        raise UsageError(
            f"a window is at most {MAX_WINDOW.total_seconds() / 3600:.0f} h; export it in parts"
        )
    return t1, t2


def _incident_window(conn: psycopg.Connection, incident_id: int) -> tuple[datetime, datetime]:
    from geo.replay_window import incident_window
    from store import incidents as incident_store

    found = incident_window(incident_store.incident_events(conn, incident_id))
    if found is None:
        raise LookupError(f"incident {incident_id} has no events logged (or does not exist)")
    return found


class CsvStream:
    """The page's CSV export written in parts: one header, then the rows of
    each part as :func:`export_csv` gives them."""

    def __init__(self, out: TextIO, call_signs: Mapping[str, str]) -> None:
        from dashboard.replay_views import export_csv

        self._out, self._call_signs, self._export = out, call_signs, export_csv
        out.write(export_csv({}, [], {}))

    def write(self, tracks: Mapping[str, Track], events: list[dict[str, Any]]) -> None:
        text = self._export(tracks, events, self._call_signs)
        self._out.write(text[text.index("\n") + 1 :])  # its header is already out

    def close(self) -> None:
        pass


class GeoJsonStream:
    """The page's GeoJSON export written in parts: one FeatureCollection
    holding the features :func:`export_geojson` gives for each part."""

    def __init__(self, out: TextIO, call_signs: Mapping[str, str]) -> None:
        from dashboard.replay_views import export_geojson

        self._out, self._call_signs, self._export = out, call_signs, export_geojson
        self._first = True
        out.write('{"type": "FeatureCollection", "features": [')

    def write(self, tracks: Mapping[str, Track], events: list[dict[str, Any]]) -> None:
        for feature in self._export(tracks, events, self._call_signs)["features"]:
            self._out.write(("" if self._first else ", ") + json.dumps(feature, ensure_ascii=False))
            self._first = False

    def close(self) -> None:
        self._out.write("]}\n")


def write_window(
    out: TextIO,
    fmt: str,
    chunks: Iterable[Mapping[str, Track]],
    events_of: Callable[[list[str]], list[dict[str, Any]]],
    call_signs: Mapping[str, str],
) -> tuple[int, int, int]:
    """Write the window chunk by chunk (tracks in unit order, then events,
    as the page's one-piece export); ``events_of(unit_ids)`` gives the events
    once the units are known. Returns (units, fixes, events) written."""
    stream = CsvStream(out, call_signs) if fmt == "csv" else GeoJsonStream(out, call_signs)
    units: list[str] = []
    fixes = 0
    for chunk in chunks:
        stream.write(chunk, [])
        units += chunk
        fixes += sum(len(t) for t in chunk.values())
    events = events_of(units)
    stream.write({}, events)
    stream.close()
    return len(units), fixes, len(events)


@contextlib.contextmanager
def _output(path: Path | None, binary: bool = False) -> Iterator[Any]:
    """stdout, or ``path`` written under a temporary name and renamed at the
    end, so a failed export never leaves a truncated file behind."""
    if path is None:
        yield sys.stdout
        return
    part = path.with_name(path.name + ".part")
    try:
        with open(part, "wb") if binary else open(part, "w", encoding="utf-8", newline="") as f:
            yield f
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)


def _progress(args: argparse.Namespace) -> ProgressBar | None:
    from dispatchmap.progress import ProgressBar

    tty = sys.stderr.isatty()
    return ProgressBar(sys.stderr, "replay-export", bar=tty) if tty or args.progress else None


def _export_window(
    args: argparse.Namespace, fmt: str, conn: psycopg.Connection, tz: ZoneInfo
) -> str:
    from usecases.replay import read_window

    if args.incident is not None:
        start, end = _incident_window(conn, args.incident)
    else:
        start, end = station_window(args.start, args.end, tz)
    bar = _progress(args)
    read = read_window(conn, start, end, args.area)
    size = max(1, min(CHUNK_UNITS, math.ceil(len(read.units) / PROGRESS_STEPS)))
    with _output(args.out) as out:
        try:
            units, fixes, events = write_window(
                out, fmt, read.tracks(size, bar), read.events, read.call_signs()
            )
        finally:
            if bar is not None:
                bar.close()
    span = f"{start:%Y-%m-%dT%H:%M:%SZ} to {end:%Y-%m-%dT%H:%M:%SZ}"
    return f"{units} tracks ({fixes:,} fixes) and {events} events from {span}"


def _export_gpkg(args: argparse.Namespace, conn: psycopg.Connection, tz: ZoneInfo) -> str:
    from geo.gpkg import GpkgWriter
    from usecases.replay import read_window

    start, end = (
        _incident_window(conn, args.incident)
        if args.incident is not None
        else station_window(args.start, args.end, tz)
    )
    read = read_window(conn, start, end, args.area)
    part = args.out.with_name(args.out.name + ".part")
    bar = _progress(args)
    try:
        gpkg = GpkgWriter(part, read.call_signs())
        units: list[str] = []
        for chunk in read.tracks(CHUNK_UNITS, bar):
            gpkg.write(chunk, [])
            units += chunk
        gpkg.write({}, read.events(units))
        gpkg.write_incidents(read.incidents)
        os.replace(part, args.out)
    finally:
        part.unlink(missing_ok=True)
        if bar is not None:
            bar.close()
    n = gpkg.written
    return (
        f"{n['tracks']} tracks ({n['positions']:,} fixes), {n['incidents']} incidents and "
        f"{n['events']} events from {start:%Y-%m-%dT%H:%M:%SZ} to {end:%Y-%m-%dT%H:%M:%SZ}"
    )


def _export_report(args: argparse.Namespace, conn: psycopg.Connection, tz: ZoneInfo) -> str:
    from dashboard.report import MAP_ASPECT, incident_report_pdf
    from dispatchmap.settings import DashboardSettings, PresenceSettings
    from geo.incident_review import interval_targets
    from usecases.review import load_review

    bar = _progress(args)
    review = load_review(conn, args.incident, MAP_ASPECT, args.area)
    if bar is not None:
        bar(1, 1, sum(len(t) for t in review.tracks.values()))
        bar.close()
    targets = interval_targets(review.incident["priority"], dispatch_thresholds())
    pdf = incident_report_pdf(
        review,
        targets,
        tz,
        DashboardSettings().language,
        PresenceSettings().stale_s,
        datetime.now(UTC),
    )
    with _output(args.out, binary=True) as out:
        out.write(pdf)
    return (
        f"the report of incident {args.incident} ({len(pdf):,} bytes, {len(review.tracks)} tracks)"
    )


def cmd_replay_export(args: argparse.Namespace) -> int:
    import psycopg

    from dispatchmap.settings import DashboardSettings

    fmt = export_format(args.format, args.out)
    check_arguments(args, fmt)
    tz = ZoneInfo(DashboardSettings().timezone)
    if args.start is not None:
        station_window(args.start, args.end, tz)  # refuse a bad window before connecting
    with psycopg.connect(database_url()) as conn:
        try:
            done = (
                _export_report(args, conn, tz)
                if fmt == "pdf"
                else _export_gpkg(args, conn, tz)
                if fmt == "gpkg"
                else _export_window(args, fmt, conn, tz)
            )
        except LookupError as exc:
            print(f"dispatchmap replay-export: {exc}", file=sys.stderr)
            return 1
    print(f"replay-export: wrote {done} to {args.out or 'stdout'}", file=sys.stderr)
    return 0
