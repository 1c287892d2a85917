"""Failed sign-ins counted per account and per address, with a back-off that
grows with every failure past a free allowance.

The counts live in PostgreSQL (``login_throttle``), so that every server
process sees one back-off. A name is counted by a keyed hash of what was typed
(:func:`usecases.access.masked_name`), never in clear: people type passwords
into the name field. This module holds the rules; :mod:`store.access` the counts.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Policy:
    """How failures are forgiven and punished, per key (account or address).

    ``free_failures`` failures within ``window_s`` seconds cost nothing; the
    next blocks the key for ``base_s`` seconds, each further one for twice as
    long as the one before, at most ``max_s``. A key with no failure for
    ``window_s`` seconds starts again from zero."""

    free_failures: int = 5
    base_s: float = 1.0
    max_s: float = 900.0
    window_s: float = 900.0


def account_key(masked: str) -> str:
    """The throttle key of an account (by the mask of the name typed)."""
    return f"name:{masked}"


def address_key(ip: str | None) -> str:
    """The throttle key of a client address."""
    return f"ip:{ip or '?'}"
