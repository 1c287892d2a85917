"""The current shift as the wall shows it: when it began, its incidents'
response clocks and its orders, read from the database in one go."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from geo.response import shift_start
from store.incidents import response_clock
from store.orders import shift_orders


@dataclass(frozen=True, slots=True)
class Shift:
    """A shift from ``started_at`` to ``now`` (aware UTC): the response clock
    of each incident created in it (``response_clock.sql`` rows) and each
    order sent in it (``shift_orders.sql`` rows), oldest first."""

    started_at: datetime
    now: datetime
    clocks: list[dict[str, Any]]
    orders: list[dict[str, Any]]


def current_shift(
    conn: psycopg.Connection, now: datetime, tz: ZoneInfo, starts: Sequence[time]
) -> Shift:
    """The shift running at ``now``: it began at the latest of the daily
    local ``starts`` (see :func:`geo.response.shift_start`)."""
    since = shift_start(now, tz, starts)
    # A second's slack: a row stamped by the database a moment after ``now``
    # was taken is still this shift's.
    until = now + timedelta(seconds=1)
    return Shift(since, now, response_clock(conn, since, until), shift_orders(conn, since, until))
