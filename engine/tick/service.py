"""What a running service holds between ticks: the store, the policies, the plugins'
dispatcher, and the job the scheduler calls.

    runtime = Runtime(load_settings())
    run_id, summary = runtime.run(datetime.now(timezone.utc), "cli")

Each tick decides with the store's active policy at the moment it starts (see
`arrears.engine.policy.registry`): a policy activated through the API is used by the next tick, and
a restart keeps it. Every run is recorded in `tick_runs` (`arrears.engine.store.tickruns`).
"""
from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timezone

from arrears.engine.domain.decision import rfc3339
from arrears.engine.domain.errors import PolicyTampered
from arrears.engine.policy.registry import PolicyRegistry
from arrears.engine.store import Store, tickruns
from arrears.engine.store.leases import default_holder
from arrears.engine.tick.runner import TickSummary, run_tick
from arrears.engine.tick.settings import TickSettings

log = logging.getLogger("arrears.tick")


class Runtime:
    """The store, policies and dispatcher a tick runs with, built once from `settings`.

    At start the configured policy file is recorded and activated only if the store has
    no active policy yet (or `activate_policy`); see `PolicyRegistry.start`. Raises
    `OSError`/`PolicyError`, `ChannelConfigError`/`PluginError` or a store error at
    construction, never later. `dispatch=False` builds no dispatcher (evaluate and queue
    only). `store` and `policies` reuse what the caller holds (the API does); the
    runtime then leaves closing the store to the caller.
    """

    def __init__(self, settings: TickSettings, *, dispatch: bool = True, plugin_manager=None,
                 store: Store | None = None, policies: PolicyRegistry | None = None,
                 activate_policy: bool = False):
        self.settings = settings
        self._own_store = store is None
        self.store = store or Store(settings.database_url)
        try:
            from arrears.plugins.facts import plugin_facts
            from arrears.plugins.manager import get_plugin_manager
            pm = plugin_manager           # policies may use the plugins' facts; channels are plugins
            if pm is None and (policies is None or dispatch):
                pm = get_plugin_manager()
            self.policies = policies or PolicyRegistry(self.store, settings.policy_path, refresh=0.0,
                                                       facts=plugin_facts(pm),
                                                       profiles=settings.profiles_path)
            if policies is None:
                self.policies.start(activate_file=activate_policy)
            self.dispatcher = None
            if dispatch:
                from arrears.plugins.dispatch import Dispatcher
                # The active policy's channel names: a route naming none of them is a typo.
                self.dispatcher = Dispatcher(pm, settings.dispatcher_config,
                                             channel_names=self._channel_names())
        except BaseException:
            self.close()
            raise
        self.holder = default_holder()
        self._celery = None

    @property
    def celery(self):
        """The Celery app of the configured broker (None without one); made on first use."""
        if self.settings.broker_url and self._celery is None:
            from arrears.engine.tick.celeryapp import make_app
            self._celery = make_app(self.settings)
        return self._celery

    def _channel_names(self):
        """The active policy's channel names, or None when it cannot be read yet (no route check)."""
        try:
            return tuple(self.policies.active().channels)
        except Exception:   # noqa: BLE001  (no active policy, or a tampered one: the tick refuses later)
            return None

    @property
    def policy(self):
        """The active policy (as last read from the store)."""
        return self.policies.active()

    def tick(self, now: datetime, *, progress=None, stop=None, holder: str | None = None,
             horizon: int | None = None, evaluate: bool = True, run_id: int | None = None) -> TickSummary:
        """One tick at `now` with the store's active policy and this runtime's settings (see
        `run_tick`); not recorded in `tick_runs` (use `run`). `horizon` overrides the
        configured one (the scheduler passes the time until its next tick); `evaluate=False`
        only delivers what is due. With a broker configured, the work runs on Celery workers
        (`arrears.engine.tick.distributed`; `run_id` names the run its pages belong to)."""
        s = self.settings
        # The active digest first: an activation after this read stops the tick at its next
        # page write rather than letting it mark accounts evaluated under the old policy.
        active = (self.store.active_policy() or {}).get("digest")
        try:
            policy = self.policies.active(force=True)
        except PolicyTampered as exc:       # fail closed: decide and deliver nothing
            return TickSummary(at=rfc3339(now), refused=str(exc))
        scale = None
        if self.celery is not None:
            from arrears.engine.tick.distributed import Distributed
            scale = Distributed(self.celery, s.scale, run_id=run_id)
        return run_tick(self.store, policy, now, dispatcher=self.dispatcher, batch_size=s.batch_size,
                        horizon=s.horizon if horizon is None else horizon, holder=holder or self.holder,
                        lease_ttl=s.lease_ttl, backoff=s.backoff, progress=progress, stop=stop,
                        evaluate=evaluate, active=active, scale=scale)

    def run(self, now: datetime, trigger: str, *, run_id: int | None = None, holder: str | None = None,
            progress=None, stop=None, horizon: int | None = None) -> tuple[int, TickSummary]:
        """One tick at `now`, recorded in `tick_runs` as started by `trigger` (scheduled, cli,
        api; `delivery` only delivers what is due, see `tick`); returns (run id, summary).

        `run_id` is a run already recorded as pending (the API's), else a new row is made.
        An exception is recorded as `failed` with its text, then raised again.
        """
        engine, holder = self.store.engine, holder or self.holder
        tickruns.abandon_stale(engine, time.time(), self.settings.lease_ttl)
        if run_id is None:
            run_id = tickruns.create(engine, trigger=trigger, at=int(now.timestamp()), holder=holder,
                                     dispatch=self.dispatcher is not None, now=int(time.time()))
        else:
            tickruns.start(engine, run_id, int(time.time()))
        try:
            summary = self.tick(now, progress=progress, stop=stop, holder=holder, horizon=horizon,
                                evaluate=trigger != "delivery", run_id=run_id)
        except BaseException as exc:
            self._record_failure(run_id, exc)
            raise
        tickruns.finish(engine, run_id, tickruns.status_of(summary), int(time.time()),
                        summary=summary.to_dict(), error=summary.refused)
        return run_id, summary

    def _record_failure(self, run_id: int, exc: BaseException) -> None:
        try:
            tickruns.finish(self.store.engine, run_id, "failed", int(time.time()),
                            error=f"{type(exc).__name__}: {exc}")
        except Exception:       # the database itself may be what failed; the sweep catches it later
            log.exception("could not record tick run %s as failed", run_id)

    def close(self) -> None:
        """Close the database connections (of a store this runtime opened)."""
        if getattr(self, "_celery", None) is not None:
            self._celery.close()
        if self._own_store:
            self.store.close()


class TickJob:
    """The callable the scheduler runs: one recorded tick at the wall-clock time, logged.

    Never raises (an exception would only be logged by APScheduler anyway): a failed
    tick is logged with its traceback (and recorded as failed) and the next one runs as
    scheduled. `stop` is a `threading.Event`; once set, a running tick ends at its next
    page or delivery. Attached to a scheduler (`attach`), the tick queues the contacts due
    before the scheduler's next tick (its horizon reaches that far) and then tells the
    scheduler, which plans a delivery run for the first of them.
    """

    trigger_name = "scheduled"

    def __init__(self, runtime: Runtime, stop: threading.Event | None = None, clock=None):
        self.runtime = runtime
        self.stop = stop or threading.Event()
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.last: TickSummary | None = None
        self.runs = 0
        self.horizon = None         # now -> seconds to queue ahead (None: the configured horizon)
        self.after = None           # (now, summary or None) -> None, called after each run

    def attach(self, horizon, after) -> None:
        """Take the horizon of each run from `horizon(now)` (None: the configured one) and
        call `after(now, summary)` after it (the scheduler plans the next delivery run)."""
        self.horizon, self.after = horizon, after

    def __call__(self) -> None:
        if self.stop.is_set():
            return
        now, summary = self.clock(), None
        try:
            horizon = None if self.horizon is None else self.horizon(now)
            _, summary = self.runtime.run(now, self.trigger_name, stop=self.stop.is_set, horizon=horizon,
                                          holder=self._holder())
            self.last = summary
            self.runs += 1
            log.info("%s", summary.line())
        except Exception:
            log.exception("%s failed; the next one runs as scheduled", self.trigger_name)
        try:
            if self.after is not None and not self.stop.is_set():
                self.after(now, summary)
        except Exception:
            log.exception("could not plan the next delivery run")

    def _holder(self) -> str | None:
        return None                 # the runtime's own lease holder name


class DeliveryJob(TickJob):
    """A run that only delivers the contacts whose time has come (`trigger` `delivery`):
    what the scheduler runs between its ticks, when a contact queued by the last tick may
    go out (see `arrears.engine.tick.scheduler`). It holds the tick lease under a name of
    its own, so it never passes for a renewal of the scheduled tick's lease."""

    trigger_name = "delivery"

    def _holder(self) -> str | None:
        return default_holder()
