"""API keys and roles: `Authorization: Bearer <key>`.

Keys are configured as a mapping key -> role (`api.keys`) or in the environment
(`ARREARS_API_KEYS="key1:admin,key2:integrator"`). Only each key's SHA-256 is kept in
memory; a presented key is hashed and compared with every stored digest in constant
time, so neither the comparison nor its position in the list leaks how much matched.

Keys made with `arrears keys create` (or the console's keys page) live in the database as
SHA-256 digests (engine/store/apikeys.py) and need no restart: a key that matches no
configured one is looked up by its digest (one indexed query), and the answer, yes or no, is
kept for `STORED_KEY_TTL` seconds. So a new key works at once (a key never seen before is not
cached), and a revoked key answers 401 within that second.
"""
from __future__ import annotations

import hashlib
import hmac
import threading
import time
from dataclasses import dataclass

from arrears.api.problems import ApiProblem
from arrears.engine.store.apikeys import LOOKUP_TTL
from arrears.engine.store.apikeys import ROLES as ROLES

MIN_KEY_LENGTH = 16
STORED_KEY_TTL = LOOKUP_TTL    # seconds a stored key's lookup (found or not) is reused
_CACHE_LIMIT = 10_000         # entries kept at most (random wrong keys must not fill memory)


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


class StoredKeys:
    """The keys kept in the database, looked up by digest, each answer reused for `ttl` seconds.

    `role_of(digest_hex)` -> the role of an unrevoked stored key, or None (`ApiKeys.role_of`).
    """

    def __init__(self, role_of, ttl: float = STORED_KEY_TTL, clock=time.monotonic):
        self._role_of, self._ttl, self._clock = role_of, ttl, clock
        self._cache: dict[str, tuple[float, str | None]] = {}
        self._lock = threading.Lock()

    def role(self, digest: bytes) -> str | None:
        """The role of the stored key with this SHA-256, or None (revoked or unknown)."""
        hexed, now = digest.hex(), self._clock()
        hit = self._cache.get(hexed)
        if hit is not None and now - hit[0] < self._ttl:
            return hit[1]
        role = self._role_of(hexed)
        with self._lock:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[hexed] = (now, role)
        return role


class KeyRing:
    """The configured keys (as SHA-256 digests) and their roles, and the stored keys (if any)."""

    def __init__(self, keys: dict[str, str], min_length: int = MIN_KEY_LENGTH,
                 stored: StoredKeys | None = None):
        self.stored = stored
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
        if found is None and self.stored is not None:
            # The stored key is found by an index on its digest: a lookup by a hash of a
            # 256-bit random key leaks nothing useful through its timing.
            role = self.stored.role(presented)
            if role is not None:
                found = Principal(role, presented.hex()[:8])
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
