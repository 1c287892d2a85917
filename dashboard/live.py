"""Live map deltas: what a map that last read at version V must change. Pure.

A map's version is what the server told it at its last read: the server time
of that read and the database snapshot it saw (``geo.queries.unit_changes``).
The browser keeps it (a ``dcc.Store``) and sends it back with the next tick,
so no Dash worker keeps anything per client. No version, or one that does not
parse, means "send everything": the map then rebuilds from a full load.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from dashboard import views
from geo.queries import UnitChanges

XID_RANGE = 2**32


@dataclass(frozen=True, slots=True)
class Version:
    """A read the map has applied: server time (UTC) and the snapshot's
    oldest running transaction (32-bit xid)."""

    at: datetime
    snapshot_xmin: int

    def data(self) -> dict[str, Any]:
        """As the browser stores it (JSON)."""
        return {"at": self.at.isoformat(), "xmin": self.snapshot_xmin}


def parse_version(data: Any) -> Version | None:
    """The version a browser sent back; None for none or anything malformed
    (a stale tab, a hand-edited store): both mean a full load, which is always
    right, only bigger."""
    if not isinstance(data, dict):
        return None
    at, xmin = data.get("at"), data.get("xmin")
    if not isinstance(at, str) or type(xmin) is not int or not 0 <= xmin < XID_RANGE:
        return None
    try:
        when = datetime.fromisoformat(at)
    except ValueError:
        return None
    if when.tzinfo is None:
        return None
    return Version(when, xmin)


def units_delta(
    changes: UnitChanges,
    now: datetime,
    full: bool,
    stale_s: float,
    offline_s: float,
    tz: ZoneInfo,
) -> dict[str, Any]:
    """What ``dm.live.apply`` takes: the changed units as the wall's GeoJSON
    features (``views.units_geojson``, same properties), whether this is a
    full load (the map drops units not in it), how many units the map should
    hold afterwards (a mismatch makes it ask for a full load: that is how a
    removal reaches it), and the version to send back next time."""
    return {
        "full": full,
        "units": views.units_geojson(changes.rows, stale_s, offline_s, tz),
        "count": changes.units_with_fix,
        "version": Version(now, changes.snapshot_xmin).data(),
    }
