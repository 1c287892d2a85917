"""A JT/T 808 terminal on the roster (gps_format ``jt808``) is tied to its unit,
and the gateway's roster finds it; a terminal not on it is not found."""

from __future__ import annotations

import dataclasses

import pytest

from feeds.jt808_runtime import Roster
from geo import queries
from geo.city import read_furniture
from tests.helpers import run_async
from usecases.city import load_furniture


def test_roster_ties_a_jt808_terminal_to_its_unit(conn, db_url, repo_root):
    furniture = read_furniture(repo_root / "data" / "helsinki")
    first = dataclasses.replace(
        furniture.roster[0], gps_device="jt808-013912345678", gps_format="jt808"
    )
    load_furniture(conn, dataclasses.replace(furniture, roster=[first, *furniture.roster[1:]]))
    conn.commit()
    assert queries.jt808_terminals(conn) == {"jt808-013912345678": first.id}

    async def look_up() -> tuple[str | None, str | None]:
        roster = Roster(db_url)
        return await roster.unit_of("jt808-013912345678"), await roster.unit_of("jt808-1")

    assert run_async(look_up()) == (first.id, None)


def test_a_roster_that_cannot_be_read_is_not_an_answer(pg_admin_url):
    unreachable = pg_admin_url.rsplit("/", 1)[0] + "/no_such_database"
    with pytest.raises(LookupError):
        run_async(Roster(unreachable).unit_of("jt808-013912345678"))
