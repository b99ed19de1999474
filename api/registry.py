"""The policies the API decides with: the active one, and any stored version by digest.

The store's `policy_versions` table is the truth: the active version there is the
one used. On first start with no active version, the configured policy file is
recorded and activated (as the scheduled tick does). Compiled policies are cached by
digest; which digest is active is re-read at most every `refresh` seconds, so every
replica follows an activation made through any of them within that time.
"""
from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from sqlalchemy import select

from engine.compiler import CompiledPolicy
from engine.errors import PolicyError
from engine.policy import load_policy
from engine.store.db import read_transaction
from engine.store.schema import policy_versions

log = logging.getLogger("arrears.api")
CACHE_SIZE = 8


class PolicyRegistry:
    """Compiled policies by digest, and the active one (thread-safe)."""

    def __init__(self, store, fallback: Path, refresh: float = 1.0, clock=time.monotonic):
        self.store, self.fallback, self.refresh, self.clock = store, Path(fallback), refresh, clock
        self._lock = threading.Lock()
        self._cache: dict[str, CompiledPolicy] = {}
        self._active: CompiledPolicy | None = None
        self._checked = float("-inf")

    def start(self) -> CompiledPolicy:
        """Load the active policy, recording the configured file first if none is active."""
        if self.store.active_policy() is None:
            source = self.fallback.read_text(encoding="utf-8")
            policy = load_policy(source, filename=str(self.fallback))
            self.store.record_policy(policy.name, policy.version, policy.digest, source)
        return self.active(force=True)

    def active(self, force: bool = False) -> CompiledPolicy:
        """The active policy (re-checked in the store at most every `refresh` seconds)."""
        now = self.clock()
        with self._lock:
            current = self._active
            due = force or current is None or now - self._checked >= self.refresh
            if due:
                self._checked = now
        if not due:
            return current
        row = self.store.active_policy()
        if row is None:
            raise LookupError("no policy is active")
        if current is not None and row["digest"] == current.digest:
            return current
        try:
            policy = self._compiled(row["digest"], row["source"], f"{row['name']} {row['version']}")
        except PolicyError:
            if current is None:
                raise
            log.error("the active policy %s does not load; still using %s", row["digest"], current.digest)
            return current
        with self._lock:
            self._active = policy
        return policy

    def get(self, digest: str) -> CompiledPolicy | None:
        """The stored version with this digest, compiled; None if no such version is stored."""
        with self._lock:
            if digest in self._cache:
                return self._cache[digest]
        with read_transaction(self.store.engine) as conn:
            row = conn.execute(select(policy_versions.c.source, policy_versions.c.name,
                                      policy_versions.c.version)
                               .where(policy_versions.c.digest == digest)).one_or_none()
        if row is None:
            return None
        return self._compiled(digest, row.source, f"{row.name} {row.version}")

    def activate(self, policy: CompiledPolicy, source: str) -> bool:
        """Store `policy` as a version (once per digest) and make it active; True if anything changed."""
        changed = self.store.record_policy(policy.name, policy.version, policy.digest, source)
        with self._lock:
            self._remember(policy.digest, policy)
            self._active, self._checked = policy, self.clock()
        return changed

    def _compiled(self, digest: str, source: str, label: str) -> CompiledPolicy:
        with self._lock:
            if digest in self._cache:
                return self._cache[digest]
        policy = load_policy(source, filename=f"<stored policy {label}>")
        with self._lock:
            self._remember(digest, policy)
        return policy

    def _remember(self, digest: str, policy: CompiledPolicy) -> None:
        if digest not in self._cache and len(self._cache) >= CACHE_SIZE:
            self._cache.pop(next(iter(self._cache)))
        self._cache[digest] = policy
