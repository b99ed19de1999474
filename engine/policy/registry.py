"""The policies the API and the tick decide with: the active one, and any stored version by digest.

The store's `policy_versions` table is the one truth: the version marked active there
is the one used, by every API process and every tick, however it was activated
(`POST /v1/policies`, or the configured file on first start). The configured policy
file only bootstraps an empty store: at start, when no version is active, it is
recorded and activated. When one is active and the file says something else, the file
is stored as an inactive version (once per digest) and a warning is logged; it is
never activated behind the back of whoever activated the current one. `start(
activate_file=True)` (`arrears tick --activate-policy`) activates it on purpose.

Compiled policies are cached by digest; which digest is active is re-read at most every
`refresh` seconds (`active(force=True)` re-reads now, as each tick does), so every
process follows an activation made through any of them.

Fail closed: a stored version whose text is no longer the text recorded in the audit log
when it was stored (`Store.policy_tampering`) is refused with `PolicyTampered`, whenever
its row is read (at each re-read of the active one), cached or not; the refusal is
audited once per process (`policy.refused`) when the store can be written.
"""
from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from arrears.engine.domain.errors import PolicyError, PolicyTampered, StoreError
from arrears.engine.policy.compiler import CompiledPolicy
from arrears.engine.policy.load import load_policy

log = logging.getLogger("arrears.policy")
CACHE_SIZE = 8


class PolicyRegistry:
    """Compiled policies by digest, and the active one (thread-safe)."""

    def __init__(self, store, fallback: Path, refresh: float = 1.0, clock=time.monotonic, *, facts=None,
                 profiles=None):
        self.store, self.fallback, self.refresh, self.clock = store, Path(fallback), refresh, clock
        self.facts = facts      # the loaded plugins' facts (`arrears.plugins.facts.plugin_facts`) policies may use
        self.profiles = profiles    # the company's own profiles directory (None: the shipped ones only)
        self._lock = threading.Lock()
        self._cache: dict[str, CompiledPolicy] = {}
        self._active: CompiledPolicy | None = None
        self._checked = float("-inf")
        self._reported: set[tuple[str, str]] = set()

    def start(self, *, activate_file: bool = False) -> CompiledPolicy | None:
        """Load the active policy, recording and activating the configured file first if none
        is active (or if `activate_file`). Raises OSError or PolicyError if the file is needed
        and unusable, PolicyError if the stored active version does not load. None if the
        stored active version was tampered with: the service starts, and refuses to use it."""
        row = self.store.active_policy()
        if row is None or activate_file:
            policy, source = self._load_file()
            self.store.record_policy(policy.name, policy.version, policy.digest, source)
        else:
            self._compare_file(row)
        try:
            return self.active(force=True)
        except PolicyTampered:
            return None         # refused (logged, audited); every later use raises it again

    def _load_file(self) -> tuple[CompiledPolicy, str]:
        source = self.fallback.read_text(encoding="utf-8")
        policy = self.load(source, filename=str(self.fallback))
        with self._lock:
            self._remember(policy.digest, policy)
        return policy, source

    def _compare_file(self, active: dict) -> None:
        """Store the configured file as an inactive version if it is new; log when it is not
        the active policy (a policy activated through the API stays active)."""
        label = f"{active['name']} {active['version']} ({active['digest']})"
        try:
            policy, source = self._load_file()
        except (OSError, PolicyError) as exc:
            log.warning("the configured policy file %s cannot be used (%s); the active policy %s stays "
                        "in force", self.fallback, str(exc).splitlines()[0], label)
            return
        if policy.digest == active["digest"]:
            return
        if self.store.record_policy(policy.name, policy.version, policy.digest, source, activate=False):
            log.warning("the configured policy file %s (%s %s, %s) is not the active policy; it was stored "
                        "as an inactive version and %s stays in force. To use the file, upload it with "
                        "POST /v1/policies or run `arrears tick --activate-policy`", self.fallback,
                        policy.name, policy.version, policy.digest, label)
        else:
            log.info("the configured policy file %s is the stored version %s %s, but %s is active and "
                     "stays in force", self.fallback, policy.name, policy.version, label)

    def active(self, force: bool = False) -> CompiledPolicy:
        """The active policy (re-checked in the store at most every `refresh` seconds, or now
        if `force`). If a newly activated version does not load, the previous one is kept
        (and the error logged); LookupError if no policy is active at all."""
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
        self._refuse_tampered(row)
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
        row = self.store.policy_version(digest)
        if row is None:
            return None
        self._refuse_tampered(row)
        return self._compiled(digest, row["source"], f"{row['name']} {row['version']}")

    def _refuse_tampered(self, row: dict) -> None:
        """PolicyTampered if the stored row's text is not the one recorded; audited once."""
        problem = self.store.policy_tampering(row["digest"], row["source"])
        if problem is None:
            return
        with self._lock:
            self._active = None             # never fall back on a cached copy of a tampered version
            first = (row["digest"], problem) not in self._reported
            self._reported.add((row["digest"], problem))
        if first:
            log.error("refusing the stored policy: %s", problem)
            try:
                self.store.audit("policy.refused", row["digest"], {"reason": problem})
            except StoreError as exc:       # a read-only store: refused all the same
                log.error("could not record the refusal in the audit log: %s", exc)
        raise PolicyTampered(problem)

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
        policy = self.load(source, filename=f"<stored policy {label}>")
        with self._lock:
            self._remember(digest, policy)
        return policy

    def load(self, source: str, filename: str) -> CompiledPolicy:
        """Compile policy text with this registry's plugin facts and profiles (PolicyError)."""
        return load_policy(source, filename=filename, facts=self.facts, company_profiles=self.profiles)

    def _remember(self, digest: str, policy: CompiledPolicy) -> None:
        if digest not in self._cache and len(self._cache) >= CACHE_SIZE:
            self._cache.pop(next(iter(self._cache)))
        self._cache[digest] = policy


def read_policy(store, fallback, *, explicit=None, facts=None, warn=None, profiles=None) -> CompiledPolicy:
    """The policy a read-only command (simulate, kpis, goals, report) measures with, recording
    nothing: the `explicit` file if given, else the store's active version, else the
    configured `fallback` file (then `warn(message)` is called, if given). `facts`: the
    installed plugins' facts, which the policy may use; `profiles`: the company's own profiles
    directory. Raises PolicyError or OSError."""
    if explicit is not None:
        return load_policy(Path(explicit), facts=facts, company_profiles=profiles)
    row = store.active_policy()
    if row is not None:
        return load_policy(row["source"], filename=f"<stored policy {row['name']} {row['version']}>",
                           facts=facts, company_profiles=profiles)
    if warn is not None:
        warn(f"no policy is active in the database; using {fallback}")
    return load_policy(Path(fallback), facts=facts, company_profiles=profiles)
