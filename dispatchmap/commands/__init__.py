"""The ``dispatchmap`` subcommands, one module per group; ``dispatchmap.cli``
parses the arguments and calls them. Each command imports what it needs
inside its function, so ``dispatchmap --help`` stays fast."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dispatchmap.settings import DispatchSettings
    from usecases.alarms import Thresholds


class UsageError(ValueError):
    """Arguments that parse but do not make sense together: exit code 2, as
    argparse gives for arguments that do not parse."""


def require(value: str | None, name: str) -> str:
    """``value``, or exit saying that the setting ``name`` is missing."""
    if not value:
        sys.exit(
            f"dispatchmap: {name} is not set (or run `dispatchmap demo`, which starts "
            "private servers)"
        )
    return value


def database_url() -> str:
    """``DATABASE_URL``, or exit saying it is missing."""
    from dispatchmap.settings import ServerSettings

    return require(ServerSettings().database_url, "DATABASE_URL")


def program_database_url(program: str, owner_url: str | None = None) -> str:
    """Where ``program`` (ingest | dispatcher | dashboard) connects: its own
    URL setting (``DM_INGEST_DATABASE_URL``, ``DM_DISPATCH_DATABASE_URL``,
    ``DM_DASH_DATABASE_URL``), else ``owner_url`` or ``DATABASE_URL`` as its
    role (store.roles.ROLES); exit if neither is set."""
    from dispatchmap.settings import ProgramDatabaseSettings
    from store.roles import role_url

    cfg = ProgramDatabaseSettings()
    explicit = cfg.url(program)
    if explicit:
        return explicit
    return role_url(owner_url or database_url(), program, cfg.password(program))


def dispatch_thresholds(cfg: DispatchSettings | None = None) -> Thresholds:
    """The dispatcher's alarm timers (``DM_DISPATCH_*``, or ``cfg``), which
    are also the targets an incident report measures its intervals against."""
    from dispatchmap.settings import DispatchSettings
    from usecases.alarms import Thresholds

    cfg = cfg or DispatchSettings()
    return Thresholds(
        cfg.ack_s,
        cfg.enroute_s,
        cfg.onscene_p12_s,
        cfg.onscene_p34_s,
        cfg.feedback_s,
        cfg.queue_p12_s,
        cfg.queue_p34_s,
        cfg.outside_beat_s,
        cfg.welfare_busy_s,
    )
