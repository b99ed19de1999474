"""Passwords: argon2id hashes (argon2-cffi, the reference implementation's binding) and the rules
a new password must meet. A password is never stored, logged or audited; only its hash is kept.
"""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from arrears.engine.domain.errors import InputError

# argon2-cffi's defaults follow RFC 9106's second recommended option (64 MiB, 3 passes).
_HASHER = PasswordHasher()
# A hash of a password nobody has: checked when the username is unknown, so a login for a
# name that does not exist takes as long as one for a name that does.
_DUMMY = _HASHER.hash("no user has this password: it only makes unknown names cost the same")


def hash_password(password: str) -> str:
    """The argon2id hash of `password`, salted, as one text to store."""
    return _HASHER.hash(password)


def verify(stored_hash: str | None, password: str) -> bool:
    """True if `password` matches `stored_hash` (None: an unknown user; still costs one hash)."""
    try:
        return _HASHER.verify(stored_hash or _DUMMY, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True if the hash was made with weaker parameters than today's (store a new one at login)."""
    return _HASHER.check_needs_rehash(stored_hash)


def check_new(password: str, username: str, min_length: int) -> None:
    """Refuse a password that is too short, too long, the username, or one repeated character;
    InputError naming the rule broken."""
    if not isinstance(password, str) or len(password) < min_length:
        raise InputError(f"must be at least {min_length} characters", "password")
    if len(password) > 1024:
        raise InputError("must be at most 1024 characters", "password")
    if password.strip().casefold() == username.casefold():
        raise InputError("must not be the username", "password")
    if len(set(password)) < 4:
        raise InputError("must use at least 4 different characters", "password")
