"""Users and roles, pure: what each role may do, what a name and a password
must be, and how passwords and tokens are hashed.

Passwords are hashed with argon2id (memory-hard); session and wall tokens are
random values of which only a SHA-256 is stored. Signing in, sessions, wall
tokens and the audit log are :mod:`usecases.access`; user and token
administration is :mod:`usecases.admin`; the web layer (dashboard/auth.py)
owns cookies and HTTP.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ROLES = ("wall", "dispatcher", "commander", "reviewer", "admin")
# What each role may do; a role's rights are listed whole, not inherited.
RIGHTS: dict[str, frozenset[str]] = {
    "wall": frozenset({"view_wall"}),
    "dispatcher": frozenset(
        {"view_wall", "view_desk", "create_incident", "dispatch", "view_video"}
    ),
    "commander": frozenset(
        {
            "view_wall",
            "view_desk",
            "create_incident",
            "dispatch",
            "override",
            "close_incident",
            "view_quality",
            "view_replay",
            "view_video",
        }
    ),
    "reviewer": frozenset({"view_wall", "view_replay"}),
    "admin": frozenset(
        {
            "view_wall",
            "view_desk",
            "view_quality",
            "view_replay",
            "manage_users",
            "manage_wall_tokens",
        }
    ),
}
_HASHER = PasswordHasher()  # argon2id, the library's current recommended parameters
_DUMMY_HASH = _HASHER.hash("not a password")
# Letters (any script), digits, '.' and '_', starting with a letter or digit.
NAME_PATTERN = re.compile(r"[^\W_][\w.]{0,63}")
MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1024  # argon2 hashes any length; this bounds the work a request causes
# A name typed at sign-in longer than this is refused before any look-up.
MAX_LOGIN_NAME_CHARS = 128
# A wall asks on every refresh; its last use is written at most this often.
WALL_TOKEN_TOUCH_S = 60.0


class AccessError(ValueError):
    """A refused request: bad input, unknown user, wrong password, no right.
    ``field`` names the form field at fault, when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    role: str

    def may(self, right: str) -> bool:
        return right in RIGHTS.get(self.role, frozenset())


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_user_errors(name: str, role: str, password: str) -> dict[str, str]:
    """What is wrong with a new user's fields, by field (``name``, ``role``,
    ``password``); empty when all are fine."""
    errors = {}
    if not NAME_PATTERN.fullmatch(name or ""):
        errors["name"] = "name: 1-64 letters, digits, '.' or '_', starting with a letter or digit"
    if role not in ROLES:
        errors["role"] = f"role must be one of {', '.join(ROLES)}"
    if password_error := check_password(password):
        errors["password"] = password_error
    return errors


def check_password(password: str) -> str | None:
    """Why ``password`` is refused, or None when it is acceptable."""
    if len(password or "") < MIN_PASSWORD_CHARS:
        return f"password: at least {MIN_PASSWORD_CHARS} characters"
    if len(password) > MAX_PASSWORD_CHARS:
        return f"password: at most {MAX_PASSWORD_CHARS} characters"
    return None


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``. With no hash (no such
    user) a dummy is checked all the same, so a wrong name costs as much
    time as a wrong password, and the answer is False."""
    try:
        _HASHER.verify(password_hash or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return password_hash is not None
