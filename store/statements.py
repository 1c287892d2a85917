"""The text of the data layer's statements, ``store/sql/<group>/<name>.sql``,
read once from the installed package."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib import resources


@cache
def text(group: str, name: str) -> str:
    """The statement ``store/sql/<group>/<name>.sql``."""
    path = resources.files("store").joinpath(f"sql/{group}/{name}.sql")
    return path.read_text(encoding="utf-8")


def loader(group: str) -> Callable[[str], str]:
    """``text`` bound to ``group``: a module's ``_sql("name")``."""

    def load(name: str) -> str:
        return text(group, name)

    return load
