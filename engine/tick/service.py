"""What a running service holds between ticks: the store, the compiled policy, the
plugins' dispatcher, and the job the scheduler calls.

    runtime = Runtime(load_settings())
    summary = runtime.tick(datetime.now(timezone.utc))
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone

from engine.policy import load_policy
from engine.store import Store
from engine.store.leases import default_holder
from engine.tick.runner import TickSummary, run_tick
from engine.tick.settings import TickSettings

log = logging.getLogger("arrears.tick")


class Runtime:
    """The store, policy and dispatcher a tick runs with, built once from `settings`.

    Loading records the policy in `policy_versions` (once per digest) and makes it the
    active one, so every stored decision's `policy_digest` can be looked up. Raises
    `PolicyError`, `ChannelConfigError`/`PluginError` or a store error at construction,
    never later. `dispatch=False` builds no dispatcher (evaluate and queue only).
    """

    def __init__(self, settings: TickSettings, *, dispatch: bool = True, plugin_manager=None):
        self.settings = settings
        self.policy = load_policy(settings.policy_path)
        self.dispatcher = None
        if dispatch:
            from plugins.dispatch import Dispatcher
            from plugins.manager import get_plugin_manager
            self.dispatcher = Dispatcher(plugin_manager or get_plugin_manager(), settings.dispatcher_config)
        self.store = Store(settings.database_url)
        source = settings.policy_path.read_text(encoding="utf-8")
        self.store.record_policy(self.policy.name, self.policy.version, self.policy.digest, source)
        self.holder = default_holder()

    def tick(self, now: datetime, *, progress=None, stop=None, holder: str | None = None) -> TickSummary:
        """One tick at `now` with this runtime's settings (see `run_tick`)."""
        s = self.settings
        return run_tick(self.store, self.policy, now, dispatcher=self.dispatcher, batch_size=s.batch_size,
                        horizon=s.horizon, holder=holder or self.holder, lease_ttl=s.lease_ttl,
                        backoff=s.backoff, progress=progress, stop=stop)

    def close(self) -> None:
        """Close the database connections."""
        self.store.close()


class TickJob:
    """The callable the scheduler runs: one tick at the wall-clock time, logged.

    Never raises (an exception would only be logged by APScheduler anyway): a failed
    tick is logged with its traceback and the next one runs as scheduled. `stop` is a
    `threading.Event`; once set, a running tick ends at its next page or delivery.
    """

    def __init__(self, runtime: Runtime, stop: threading.Event | None = None, clock=None):
        self.runtime = runtime
        self.stop = stop or threading.Event()
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.last: TickSummary | None = None
        self.runs = 0

    def __call__(self) -> None:
        if self.stop.is_set():
            return
        try:
            self.last = self.runtime.tick(self.clock(), stop=self.stop.is_set)
            self.runs += 1
            log.info("%s", self.last.line())
        except Exception:
            log.exception("tick failed; the next one runs as scheduled")
