"""API keys kept in the database (`api_keys`): every read and write of that table.

A key is made here (`new_key`: 32 random bytes, URL-safe, prefixed `ark_`) and shown once to
whoever asked for it; only its SHA-256 (`digest_of`) is stored. SHA-256 suffices for a key
this long and random (no dictionary to guess from); passwords, which people choose, get argon2.
Creating and revoking are audited (`key.created`, `key.revoked`, with `by`: a username or
`cli`) and re-seal the row (engine/store/seals.py), so `arrears audit verify` catches a key
inserted, un-revoked or given another role with SQL.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, update

from arrears.engine.store import audit
from arrears.engine.store.schema import api_keys

PREFIX = "ark_"
ROLES = ("integrator", "compliance", "agent", "admin")     # the API's roles (arrears.api.auth)
LOOKUP_TTL = 1.0        # seconds the API reuses a stored key's lookup: a revoked key is refused within it


def new_key() -> str:
    """A fresh API key: `ark_` and 43 URL-safe characters (256 random bits)."""
    return PREFIX + secrets.token_urlsafe(32)


def digest_of(key: str) -> str:
    """The stored form of `key`: its SHA-256 in hex."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ApiKey:
    """One stored key (its digest, never the key)."""

    id: int
    digest: str
    label: str
    role: str
    created_at: int
    created_by: str
    revoked_at: int | None
    revoked_by: str | None

    @property
    def key_id(self) -> str:
        """The key's id in logs and messages: the first 8 hex digits of its SHA-256 (as for
        configured keys, `arrears.api.auth.key_id`)."""
        return self.digest[:8]

    def public(self) -> dict:
        """For listings: no digest beyond the 8-digit key id."""
        return {"id": self.id, "key_id": self.key_id, "label": self.label, "role": self.role,
                "created_at": self.created_at, "created_by": self.created_by,
                "revoked_at": self.revoked_at, "revoked_by": self.revoked_by}


_FIELDS = tuple(ApiKey.__dataclass_fields__)


def _key(row) -> ApiKey | None:
    return None if row is None else ApiKey(**{name: getattr(row, name) for name in _FIELDS})


def get(conn: Connection, key_no: int) -> ApiKey | None:
    """The stored key with this id, or None."""
    return _key(conn.execute(select(api_keys).where(api_keys.c.id == key_no)).one_or_none())


def role_of(conn: Connection, digest: str) -> str | None:
    """The role of the unrevoked key with this digest, or None (one indexed lookup)."""
    return conn.execute(select(api_keys.c.role).where(api_keys.c.digest == digest,
                                                      api_keys.c.revoked_at.is_(None))).scalar_one_or_none()


def listing(conn: Connection) -> list[ApiKey]:
    """Every stored key, newest first."""
    return [_key(r) for r in conn.execute(select(api_keys).order_by(api_keys.c.id.desc()))]


def create(conn: Connection, digest: str, label: str, role: str, now: int, by: str) -> ApiKey:
    """Store a key's digest; audited as `key.created` (subject: the key id)."""
    key_no = conn.execute(insert(api_keys).values(
        digest=digest, label=label, role=role, created_at=now, created_by=by)).inserted_primary_key[0]
    audit.append(conn, "key.created", digest[:8], {"id": key_no, "label": label, "role": role, "by": by},
                 now, reseal={"api_keys": [key_no]})
    return get(conn, key_no)


def revoke(conn: Connection, key_no: int, now: int, by: str) -> ApiKey | None:
    """Revoke the key (audited as `key.revoked`); None if no such key. A key revoked already
    is returned as it is, nothing written."""
    key = get(conn, key_no)
    if key is None or key.revoked_at is not None:
        return key
    conn.execute(update(api_keys).where(api_keys.c.id == key_no).values(revoked_at=now, revoked_by=by))
    audit.append(conn, "key.revoked", key.key_id, {"id": key_no, "label": key.label, "by": by}, now,
                 reseal={"api_keys": [key_no]})
    return get(conn, key_no)


class ApiKeys:
    """The store's API keys, each call its own transaction (`Store.api_keys`)."""

    def __init__(self, store):
        self._store = store

    def _read(self):
        from arrears.engine.store.db import read_transaction
        return read_transaction(self._store.engine)

    def role_of(self, digest: str) -> str | None:
        """See `role_of`."""
        with self._read() as conn:
            return role_of(conn, digest)

    def listing(self) -> list[ApiKey]:
        """See `listing`."""
        with self._read() as conn:
            return listing(conn)

    def get(self, key_no: int) -> ApiKey | None:
        """See `get`."""
        with self._read() as conn:
            return get(conn, key_no)

    def create(self, role: str, label: str, *, by: str, now=None) -> tuple[str, ApiKey]:
        """Make a key; returns (the key, to be shown once, and its stored row)."""
        key = new_key()
        with self._store.transaction(now=now) as w:
            return key, create(w.conn, digest_of(key), label, role, w.now, by)

    def revoke(self, key_no: int, *, by: str, now=None) -> ApiKey | None:
        """See `revoke`."""
        with self._store.transaction(now=now) as w:
            return revoke(w.conn, key_no, w.now, by)
