"""One tick: take the lease, evaluate the due accounts, dispatch the due contacts, report.

    summary = run_tick(store, policy, now, dispatcher=dispatcher)
    print(summary.line())

`now` is an argument (the scheduler passes the wall clock, `arrears tick --at` any
instant), so a tick after downtime decides at its own `now`: escalation advances at
most one step per evaluation, so missed ticks never turn into a burst of messages.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import datetime

from arrears.engine.domain.decision import rfc3339
from arrears.engine.domain.words import plural
from arrears.engine.experiments import lifecycle
from arrears.engine.experiments.live import Strategies
from arrears.engine.store.leases import Lease, LeaseLost
from arrears.engine.tick.dispatch import Backoff, dispatch_due
from arrears.engine.tick.evaluate import EvalCounts, evaluate_due

TICK_LEASE = "tick"
DEFAULT_HORIZON = 300        # seconds: contacts due before the next tick are queued now
DEFAULT_LEASE_TTL = 300.0    # seconds; renewed per page and per delivery


@dataclass
class TickSummary:
    """What one tick did. `skipped_reason` is set when it did not run (or stopped early)."""

    at: str
    evaluated: int = 0
    stale: int = 0
    decisions_written: int = 0
    actions_queued: int = 0
    suppressed: int = 0
    delivered: int = 0
    failed: int = 0
    retrying: int = 0
    cancelled: int = 0
    deferred: int = 0
    unknown: int = 0
    plugin_failures: list = field(default_factory=list)
    skipped_reason: str | None = None
    duration: float = 0.0
    refused: str | None = None      # why nothing was decided: the stored policy was tampered with

    @property
    def ran(self) -> bool:
        """True if the tick held the lease and ran to the end."""
        return self.skipped_reason is None and self.refused is None

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return asdict(self)

    def line(self) -> str:
        """One human-readable summary line."""
        if self.refused:
            return f"tick {self.at}: refused: {self.refused}"
        if self.skipped_reason and not (self.evaluated or self.delivered):
            return f"tick {self.at}: skipped: {self.skipped_reason}"
        parts = [f"{self.evaluated:,} evaluated", plural(self.decisions_written, "decision"),
                 f"{self.actions_queued:,} queued", f"{self.suppressed:,} suppressed",
                 f"{self.delivered:,} delivered", f"{self.failed:,} failed"]
        for name in ("retrying", "cancelled", "deferred", "unknown", "stale"):
            if getattr(self, name):
                parts.append(f"{getattr(self, name):,} {name}")
        if self.plugin_failures:
            parts.append(plural(len(self.plugin_failures), "plugin error"))
        tail = f"; stopped: {self.skipped_reason}" if self.skipped_reason else ""
        return f"tick {self.at}: {', '.join(parts)} ({self.duration:.1f} s){tail}"

    def _add(self, counts) -> None:
        for name, value in asdict(counts).items():
            if hasattr(self, name) and name != "plugin_failures":
                setattr(self, name, getattr(self, name) + value)
        self.plugin_failures += counts.plugin_failures


def run_tick(store, policy, now: datetime, *, dispatcher=None, dispatch: bool = True,
             batch_size: int = 10_000, horizon: int = DEFAULT_HORIZON, holder: str | None = None,
             lease_ttl: float = DEFAULT_LEASE_TTL, clock=time.time, backoff: Backoff = Backoff(),
             progress=None, stop=None, workers: int | None = None, evaluate: bool = True,
             active: str | None = None, scale=None) -> TickSummary:
    """Run one tick at `now` (aware datetime) under the database lease "tick".

    Without the lease (another process is ticking) nothing is done and `skipped_reason`
    says who holds it. `dispatcher=None` (or `dispatch=False`) evaluates and queues
    without delivering. `progress(phase, done, total)` is called as work proceeds
    ("evaluate", "dispatch"); `stop()` returning True ends the tick early (between pages
    and deliveries; the summary says so). Plugin errors are recorded, never raised.
    `workers`: processes that load and decide pages while this one writes; None lets
    the tick choose (two for a large tick, none for a small one), 0 keeps it all here.
    `evaluate=False` only delivers the contacts whose time has come (the delivery runs
    `arrears serve` makes between ticks, see `arrears.engine.tick.scheduler`). `active`:
    the store's active policy digest `policy` was chosen as (a page write finding another
    one active stops the tick); default: the one active when evaluation starts. `scale`: a
    `distributed.Distributed` (a broker is configured): the pages and the deliveries run on
    Celery workers, under this lease, instead of in this process.
    """
    started = time.perf_counter()
    summary = TickSummary(at=rfc3339(now))
    lease = Lease(store.engine, TICK_LEASE, holder, lease_ttl, clock)
    if not lease.acquire():
        summary.skipped_reason = f"another process holds the tick lease: {lease.describe_holder()}"
        return summary
    try:
        observer = decision_observer(store, dispatcher, now, summary.plugin_failures)
        counts = EvalCounts()
        strategies = Strategies.load(store, policy, now, facts=getattr(policy, "plugin_facts", None))
        if strategies.pause_reason:              # an experiment that cannot run: paused, not raised
            lifecycle.pause(store, strategies, now=now)
        if evaluate and scale is not None:       # on Celery workers (arrears.engine.tick.distributed),
            counts = scale.evaluate(store, policy, now, horizon=horizon, batch_size=batch_size, lease=lease,
                                    progress=_phase(progress, "evaluate"), stop=stop, active=active)
        elif evaluate:                           # which load the strategies themselves
            counts = evaluate_due(store, policy, now, horizon=horizon, batch_size=batch_size, lease=lease,
                                  progress=_phase(progress, "evaluate"), observer=observer, stop=stop,
                                  workers=workers, active=active, strategies=strategies)
        summary._add(counts)
        # Another policy was activated: deliver nothing queued under the old one now; the
        # next tick decides every account again (and re-checks the queue) under the new one.
        summary.skipped_reason = counts.stopped
        if dispatcher is not None and dispatch and not (stop and stop()) and not counts.stopped:
            if scale is not None:
                summary._add(scale.dispatch(store, policy, now, lease=lease, stop=stop,
                                            progress=_phase(progress, "dispatch")))
            else:
                summary._add(dispatch_due(store, policy, dispatcher, now, lease=lease, backoff=backoff,
                                          stop=stop, progress=_phase(progress, "dispatch"),
                                          strategies=strategies if strategies.live else None))
        if stop and stop() and not counts.stopped:
            summary.skipped_reason = "stopped before the end (shutdown requested)"
    except LeaseLost as exc:
        summary.skipped_reason = str(exc)
    finally:
        lease.release()
        summary.duration = time.perf_counter() - started
    return summary


def _phase(progress, name: str):
    if progress is None:
        return None
    return lambda done, total: progress(name, done, total)


def decision_observer(store, dispatcher, now, failures: list):
    """Pass changed decisions to `arrears_decision` observers; None when no plugin implements
    it (or there is no `dispatcher`). The plugins' failures are audited and appended to
    `failures` (a tick summary's `plugin_failures`).

    Materialising full decisions costs ~100 µs each, so it is done only when someone
    listens. Observers are told after the page is committed, at most once: a crash in
    between loses the notification, not the decision (the `decisions` table has it). The
    local tick calls it per page here; a distributed tick's worker after its page's commit
    (`distributed.evaluate_page`).
    """
    if dispatcher is None or not dispatcher.pm.hook.arrears_decision.get_hookimpls():
        return None
    from arrears.engine.domain.clock import as_epoch

    def observe(decisions) -> None:
        found = []
        for decision in decisions:
            found += dispatcher.notify_decision(decision)
        if found:
            items = [f.to_dict() for f in found]
            failures.extend(items)
            store.audit("plugin.failed", "decisions", {"hook": "arrears_decision", "failures": items[:100],
                                                       "count": len(items)}, now=as_epoch(now))
    return observe
