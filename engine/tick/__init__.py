"""The scheduled tick: evaluate the due accounts, persist decisions, deliver contacts once.

    from arrears.engine.tick import run_tick
    summary = run_tick(store, policy, now, dispatcher=Dispatcher(get_plugin_manager(), config))

Modules: `runner` (run_tick, TickSummary), `evaluate` (decide and persist, page by page),
`columns` (decision keys and summaries, column-wise), `dispatch` (claim, re-check,
deliver, record), `recheck`, `settings` (config from flags, environment and file),
`service` (Runtime: recorded runs with the store's active policy), `launcher` (ticks on
request, for POST /v1/ticks), `scheduler` (APScheduler for `arrears serve`), `receipts`
(a provider's delivery receipts into the history), `trial` (a channel plugin's test bench:
a real outbox and tick); the distributed tick on Celery workers (docs/scale-out.md):
`distributed` (the leader's half and the workers' page functions), `celeryapp` (the Celery
app, its tasks, `arrears worker`), `broker` (broker URLs, queue depth, shared rate limits).
See docs/tick.md.

May import: the core (`domain`, `facts`, `guardrails`, `policy`, `decisions`), `store`, the
plugins (for delivery) and the shipped policies.
"""
from arrears.engine.store.leases import Lease, LeaseLost
from arrears.engine.tick.dispatch import Backoff, DispatchCounts, dispatch_due
from arrears.engine.tick.evaluate import EvalCounts, evaluate_due
from arrears.engine.tick.runner import TICK_LEASE, TickSummary, run_tick

__all__ = ["Backoff", "DispatchCounts", "EvalCounts", "Lease", "LeaseLost", "TICK_LEASE", "TickSummary",
           "dispatch_due", "evaluate_due", "run_tick"]
