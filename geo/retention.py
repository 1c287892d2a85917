"""Positions history's rules, pure: how long it is kept, how far back a
replay looks for a unit's last fix, and which UTC day a partition
(``positions_YYYYMMDD``) holds. Read by :mod:`store.replay`, dropped by
:mod:`usecases.retention`.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

RETENTION_DAYS = 90
LOOKBACK_S = 12 * 3600.0
"""How far before a moment a unit's last fix is looked for (longer than a shift);
a unit silent for longer is not on the replay map at that moment. Bounding it
keeps a seek to at most two day partitions per unit."""

_PARTITION = re.compile(r"^positions_(\d{8})$")

BBox = tuple[float, float, float, float]


def partition_day(name: str) -> date | None:
    """The UTC day of a ``positions_YYYYMMDD`` partition name; None for other names."""
    match = _PARTITION.match(name)
    return None if match is None else datetime.strptime(match[1], "%Y%m%d").date()


def day_end(day: date) -> datetime:
    """The end of a UTC day: midnight UTC of the next."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
