"""Named SQL statements shipped as ``geo/sql/queries/<name>.sql``, and the
read queries the dashboard and the simulator use. Each reader takes the
connection first and is named for what it returns."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any, NamedTuple

import psycopg
from psycopg.rows import dict_row


@cache
def sql(name: str) -> str:
    """The text of ``geo/sql/queries/<name>.sql``."""
    return resources.files("geo").joinpath(f"sql/queries/{name}.sql").read_text(encoding="utf-8")


def _rows(conn: psycopg.Connection, name: str, params: Any = None) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(sql(name), params).fetchall()


def unit_positions(conn: psycopg.Connection, now: datetime) -> list[dict[str, Any]]:
    """Every roster unit with its latest fix (``lon``/``lat`` None if it never
    reported), ``fix_age_s`` measured against ``now``, and its roster details."""
    return _rows(conn, "unit_positions", {"now": now})


class UnitChanges(NamedTuple):
    """What :func:`unit_changes` read: the rows, and the version to ask from next."""

    rows: list[dict[str, Any]]
    snapshot_xmin: int  # the oldest transaction running at this read (32-bit xid)
    units_with_fix: int  # units the map should hold after applying ``rows``


def unit_changes(
    conn: psycopg.Connection,
    now: datetime,
    since_at: datetime | None,
    since_xmin: int | None,
    stale_s: float,
    offline_s: float,
) -> UnitChanges:
    """Units with a fix whose marker changed since a read at ``since_at`` that
    returned ``since_xmin``: a new fix, a status, roster or live-order change,
    or a fix age that crossed ``stale_s`` or ``offline_s`` (seconds) in
    (since_at, now]. Rows have the columns of :func:`unit_positions`. With
    ``since_at`` None, every unit with a fix (a first load). May repeat a unit
    changed just before the earlier read; never misses one committed after it."""
    if since_at is not None and since_xmin is None:
        raise ValueError("since_at needs the since_xmin that read returned")
    params = {
        "now": now,
        "since_at": since_at,
        "since_xmin": since_xmin,
        "stale_s": stale_s,
        "offline_s": offline_s,
    }
    rows = _rows(conn, "unit_changes", params)
    head = rows[0]
    return UnitChanges(
        [{k: v for k, v in r.items() if k not in _VERSION_COLUMNS} for r in rows if r["id"]],
        int(head["snapshot_xmin"]),
        int(head["units_with_fix"]),
    )


_VERSION_COLUMNS = ("snapshot_xmin", "units_with_fix")


def device_presence(
    conn: psycopg.Connection, now: datetime, stale_s: float, offline_s: float
) -> list[dict[str, Any]]:
    """Every device with ``fix_age_s`` and ``presence`` (online / stale /
    offline / no_fix); devices not on the roster have ``unit_id`` None."""
    return _rows(conn, "device_presence", {"now": now, "stale_s": stale_s, "offline_s": offline_s})


def unit_presence(
    conn: psycopg.Connection, now: datetime, stale_s: float, offline_s: float
) -> list[dict[str, Any]]:
    """Every roster unit with its newest fix's age and ``presence``."""
    return _rows(conn, "unit_presence", {"now": now, "stale_s": stale_s, "offline_s": offline_s})


def untied_devices(
    conn: psycopg.Connection, now: datetime, max_age_s: float, shown: int = 50
) -> list[dict[str, Any]]:
    """Devices tied to no unit (``kind`` 'unknown' when not on the roster) whose
    latest fix is at most ``max_age_s`` seconds old at ``now``: the ``shown``
    newest by fix time, by device id, with ``format``, ``fix_at``,
    ``fix_age_s``, ``speed_kmh``, ``acc_m`` (metres; None where the device did
    not say), ``lon``/``lat`` (WGS84 degrees) and ``untied_n``, how many
    untied devices there are in all (``shown`` or fewer are returned)."""
    if max_age_s <= 0:
        raise ValueError(f"max_age_s must be positive, not {max_age_s}")
    if shown < 1:
        raise ValueError(f"shown must be at least 1, not {shown}")
    params = {"now": now, "max_age_s": max_age_s, "shown": shown}
    return _rows(conn, "untied_devices", params)


def jt808_terminals(conn: psycopg.Connection) -> dict[str, str]:
    """Device id (``jt808-{phone}``) -> unit id of every JT/T 808 terminal the
    roster ties to a unit; terminals tied to no unit are left out."""
    return {str(d): str(u) for d, u in conn.execute(sql("jt808_terminals")).fetchall()}


def replica_lag(conn: psycopg.Connection) -> float | None:
    """Seconds a hot standby is behind its primary (0: caught up); None on a
    server that is not a standby."""
    row = conn.execute(sql("replica_lag")).fetchone()
    return None if row is None or row[0] is None else float(row[0])
