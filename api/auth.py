"""API keys and roles: `Authorization: Bearer <key>`.

Keys are configured as a mapping key -> role (`api.keys`) or in the environment
(`ARREARS_API_KEYS="key1:admin,key2:integrator"`). Only each key's SHA-256 is kept in
memory; a presented key is hashed and compared with every stored digest in constant
time, so neither the comparison nor its position in the list leaks how much matched.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from arrears.api.problems import ApiProblem

ROLES = ("integrator", "compliance", "agent", "admin")
MIN_KEY_LENGTH = 16


class KeyConfigError(ValueError):
    """The configured keys are unusable (unknown role, empty or short key)."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: the role of the key, and a short fingerprint for logs."""

    role: str
    key_id: str

    def may(self, roles) -> bool:
        """True if this caller holds one of `roles` (admin holds every role)."""
        return self.role == "admin" or self.role in roles


def parse_env_keys(text: str) -> dict[str, str]:
    """`"key1:admin,key2:integrator"` -> `{"key1": "admin", "key2": "integrator"}`.

    A key listed twice with different roles is refused (KeyConfigError naming both entries by
    position and the key by its id, never the key itself); twice with the same role is one key."""
    keys: dict[str, str] = {}
    where: dict[str, int] = {}
    position = 0
    for item in (text or "").split(","):
        item = item.strip()
        if not item:
            continue
        position += 1
        key, sep, role = item.rpartition(":")
        if not sep or not key:
            raise KeyConfigError(f"ARREARS_API_KEYS: expected KEY:ROLE, got {item[:4]}… (entry {position})")
        key, role = key.strip(), role.strip()
        if key in keys and keys[key] != role:
            raise KeyConfigError(f"ARREARS_API_KEYS: entries {where[key]} and {position} are the same key "
                                 f"(key id {key_id(key)}) with different roles, {keys[key]} and {role}; "
                                 f"give each key one role")
        keys[key], where[key] = role, where.get(key, position)
    return keys


def key_id(key: str) -> str:
    """A key's id for messages and logs: the first 8 hex digits of its SHA-256 (not the key)."""
    return _digest(key).hex()[:8]


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


class KeyRing:
    """The configured keys (as SHA-256 digests) and their roles."""

    def __init__(self, keys: dict[str, str], min_length: int = MIN_KEY_LENGTH):
        self._entries: list[tuple[bytes, str]] = []
        for key, role in keys.items():
            if role not in ROLES:
                raise KeyConfigError(f"unknown role {role!r} for an API key; roles: {', '.join(ROLES)}")
            if not isinstance(key, str) or len(key) < min_length:
                raise KeyConfigError(f"API keys must be strings of at least {min_length} characters")
            self._entries.append((_digest(key), role))

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, key: str) -> Principal | None:
        """The principal of `key`, or None; compares against every entry in constant time."""
        presented = _digest(key)
        found = None
        for digest, role in self._entries:
            if hmac.compare_digest(presented, digest):
                found = Principal(role, presented.hex()[:8])     # = key_id(key)
        return found

    def authenticate(self, header: str | None) -> Principal:
        """The principal of an `Authorization` header; ApiProblem 401 if missing or wrong."""
        challenge = {"WWW-Authenticate": 'Bearer realm="arrears"'}
        if not header:
            raise ApiProblem(401, "unauthorized", "send an API key as 'Authorization: Bearer <key>'",
                             [{"header": "Authorization", "detail": "is required"}], challenge)
        scheme, _, key = header.partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            raise ApiProblem(401, "unauthorized", "expected 'Authorization: Bearer <key>'",
                             [{"header": "Authorization", "detail": "expected the Bearer scheme"}],
                             challenge)
        principal = self.lookup(key)
        if principal is None:
            raise ApiProblem(401, "unauthorized", "the API key is not valid",
                             [{"header": "Authorization", "detail": "unknown API key"}],
                             {"WWW-Authenticate": 'Bearer realm="arrears", error="invalid_token"'})
        return principal


def require(principal: Principal, roles) -> None:
    """ApiProblem 403 unless `principal` holds one of `roles`."""
    if not principal.may(roles):
        raise ApiProblem(403, "forbidden",
                         f"this endpoint needs the {' or '.join(roles)} role; the key has {principal.role}")
