"""What one app instance holds: settings, store, policies, keys, batcher, metrics, validators,
the OpenAPI document, and the launcher of ticks on request.

Kept in `app.extensions["arrears"]` (no module globals), so two apps in one process
(tests do this) never share a database, a key or a counter.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

from arrears.api.auth import KeyRing, StoredKeys
from arrears.api.batcher import MicroBatcher
from arrears.api.bodies import envelope_validators, strict_validator
from arrears.api.decision_json import columns_of
from arrears.api.metrics import Metrics
from arrears.api.openapi.messages import components
from arrears.api.policytext import compile_gate
from arrears.engine.policy.registry import PolicyRegistry
from arrears.engine.store import Store
from arrears.engine.tick.launcher import TickLauncher
from arrears.engine.tick.service import Runtime
from arrears.engine.tick.settings import TickSettings

UNWRITABLE_SECONDS = 60      # how long /healthz reports a write refused for a full or read-only database


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class ApiState:
    """Everything the views need, built once by `create_app`."""

    def __init__(self, settings, store: Store | None = None, plugin_manager=None, clock=None):
        self.settings = settings
        self.clock = clock or _utc_now             # the console's "now": `now()`
        self.keys = KeyRing(settings.keys)
        self.metrics = Metrics()
        self.components = components(settings)
        self.validators = envelope_validators(self.components)
        self.event_validator = strict_validator(self.components, "Event")   # POST /v1/events:batch
        self.document: dict = {}                   # set by create_app once the routes exist
        self.compile_gate = compile_gate()         # policy texts compiled at once (api.policytext)
        self._unwritable_at: float | None = None   # monotonic time of the last write refused as unwritable
        self._own_store = store is None
        self.store = store or Store(settings.database_url)
        self.keys.stored = StoredKeys(self.store.api_keys.role_of)    # keys made without a restart
        try:
            # Policies may use the facts of the installed plugins (or of `plugin_manager`).
            from arrears.plugins.facts import plugin_facts
            from arrears.plugins.manager import get_plugin_manager
            facts = plugin_facts(plugin_manager or get_plugin_manager())
            self.policies = PolicyRegistry(self.store, settings.policy_path, settings.policy_refresh_seconds,
                                           facts=facts, profiles=settings.profiles_path)
            self.policies.start()
        except BaseException:
            if self._own_store:
                self.store.close()
            raise
        self._ticks = None                         # TickLauncher, made on first use
        self._ticks_lock = threading.Lock()
        self.batcher = None
        if settings.batcher_enabled and settings.batcher_max_batch > 1:
            self.batcher = MicroBatcher(settings.batcher_max_batch, settings.batcher_max_wait,
                                        on_batch=self.metrics.batch, prepare=columns_of)

    def now(self) -> datetime:
        """The time the console decides and records at (aware UTC, whole seconds): the real time,
        unless `create_app` was given another clock (tests that need a working day)."""
        return self.clock().astimezone(timezone.utc).replace(microsecond=0)

    def strategies(self, now):
        """The running experiment's strategies at `now` (`arrears.engine.experiments.live.Strategies`,
        the active policy as the champion), re-read at most every `policy_refresh_seconds` and
        compiled once per experiment, champion and day."""
        from arrears.engine.experiments.live import Strategies
        champion = self.policies.active()
        clock = time.monotonic()
        cached = getattr(self, "_strategies", None)
        if cached is None or clock - cached[0] >= self.settings.policy_refresh_seconds:
            row = self.store.experiments.running()
            key = (row and row["digest"], champion.digest, now.date())
            if cached is None or cached[1] != key:
                cached = (clock, key, Strategies.load(self.store, champion, now, facts=self.policies.facts))
            else:
                cached = (clock, key, cached[2])
            self._strategies = cached
        return cached[2]

    def note_unwritable(self) -> None:
        """Remember that a write was refused for a full disk or a read-only database (`/healthz`
        reports it for `UNWRITABLE_SECONDS`)."""
        self._unwritable_at = time.monotonic()

    def write_problem(self) -> str | None:
        """Why writes to the database fail now, or None: what the store finds without writing
        (`Store.write_blocker`), else a write refused in the last `UNWRITABLE_SECONDS`.
        StoreError if the database cannot be read."""
        blocker = self.store.write_blocker()
        if blocker is not None:
            return blocker
        if self._unwritable_at is not None:
            age = time.monotonic() - self._unwritable_at
            if age < UNWRITABLE_SECONDS:
                return f"a write was refused {age:.0f} s ago: disk full or database read-only"
        return None

    def tick_launcher(self):
        """This app's own launcher of ticks on request (`POST /v1/ticks` when no scheduler is
        attached): it shares this app's store and policies and has no dispatcher, so its ticks
        evaluate and queue contacts and leave delivery to the scheduled tick."""
        with self._ticks_lock:
            if self._ticks is None:
                tick = TickSettings(database_url=self.settings.database_url,
                                    policy_path=self.settings.policy_path,
                                    profiles_path=self.settings.profiles_path,
                                    broker_url=self.settings.broker_url)
                self._ticks = TickLauncher(Runtime(tick, dispatch=False, store=self.store,
                                                   policies=self.policies))
            return self._ticks

    def launcher(self, app):
        """What runs a tick on request for `app`: the scheduler's launcher when `arrears serve`
        attached one (`app.extensions["arrears_scheduler"]`, with its dispatcher), else this app's
        own (`tick_launcher`). `POST /v1/ticks` and the console's work queue use it."""
        scheduler = app.extensions.get("arrears_scheduler")
        return scheduler.launcher if scheduler is not None else self.tick_launcher()

    def after_fork(self) -> None:
        """In a forked server process: drop the parent's pooled connections (never share a
        database connection across processes) and start a batcher of this process's own."""
        self.store.forget_connections()
        self._ticks, self._ticks_lock = None, threading.Lock()     # threads do not survive a fork
        self.compile_gate = compile_gate()
        if self.batcher is not None:
            s = self.settings
            self.batcher = MicroBatcher(s.batcher_max_batch, s.batcher_max_wait, on_batch=self.metrics.batch,
                                        prepare=columns_of)

    def close(self) -> None:
        """Stop a tick started on request (waiting for it), the batcher, and close the database
        connections (of a store this state opened)."""
        if self._ticks is not None:
            self._ticks.close()
        if self.batcher is not None:
            self.batcher.close()
        if self._own_store:
            self.store.close()
