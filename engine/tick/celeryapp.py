"""The Celery app of the distributed tick: its configuration, its two tasks, and `arrears worker`.

    app = make_app(settings)          # the leader sends tasks through it (distributed.Distributed)
    run_worker(settings, lambda: Runtime(settings))   # `arrears worker`: serve both queues until SIGTERM

Settings that make a page delivered twice the only failure mode, never a page lost:
`task_acks_late` (a task is acknowledged once it has run, so a worker killed mid-page leaves
it to another), `task_reject_on_worker_lost` (a pool process that died puts its task back
at once), `worker_prefetch_multiplier=1` (a worker holds one page beyond the one it runs),
and the broker's visibility timeout (`scale.visibility_timeout`: a task a dead worker
took is handed out again after it). Messages are JSON (no pickles from the broker). Each
worker process opens its own `Runtime` (store, policies, dispatcher) on its first task,
as the pool forks it. A task that met a database error is retried with exponential
backoff (at most five times); a page's own checks make the retry harmless.
"""
from __future__ import annotations

import logging

from arrears.engine.domain.errors import StoreError
from arrears.engine.tick.broker import MISSING, BrokerError, RateLimiter, broker_kind
from arrears.engine.tick.distributed import (
    DELIVER_TASK,
    DELIVERY_QUEUE,
    EVALUATE_TASK,
    PAGES_QUEUE,
    QUEUES,
    deliver_part,
    evaluate_page,
)

log = logging.getLogger("arrears.worker")
RETRY = {"autoretry_for": (StoreError,), "retry_backoff": 2, "retry_backoff_max": 300, "retry_jitter": True,
         "max_retries": 5}
_process: dict = {}         # this worker process's Runtime factory, Runtime and RateLimiter


def make_app(settings):
    """A Celery app on `settings.broker_url` with the tick's tasks (BrokerError without Celery)."""
    broker_kind(settings.broker_url)
    try:
        from celery import Celery
    except ImportError:
        raise BrokerError(MISSING) from None
    app = Celery("arrears", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_serializer="json", accept_content=["json"], task_ignore_result=True,
        task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
        task_default_queue=PAGES_QUEUE, broker_connection_retry_on_startup=True,
        # A task taken by a worker that died is handed out again `visibility_timeout` after it was
        # taken; the workers look for such tasks a few times within that time.
        broker_transport_options={"visibility_timeout": settings.scale.visibility_timeout,
                                  "unacked_restore_interval": max(1.0, min(60.0, settings.scale.visibility_timeout / 3))},
        worker_hijack_root_logger=False)
    app.conf.arrears_settings = settings

    @app.task(name=EVALUATE_TASK, **RETRY)
    def evaluate(tick, page_no, digest, active, at, horizon, acct_nos, revisions):
        outcome = evaluate_page(_runtime(), tick, page_no, digest, active, at, horizon, acct_nos, revisions)
        log.info("evaluate page %s of tick %s: %s (%d accounts)", page_no, tick[:8], outcome, len(acct_nos))
        return outcome

    @app.task(name=DELIVER_TASK, **RETRY)
    def deliver(tick, part_no, digest, at, rows):
        runtime = _runtime()
        outcome = deliver_part(runtime, tick, part_no, digest, at, rows, limiter=_process["limiter"])
        log.info("deliver part %s of tick %s: %s (%d contacts)", part_no, tick[:8], outcome, len(rows))
        return outcome

    return app


def _runtime():
    """This worker process's Runtime (and rate limiter), opened on its first task."""
    if "runtime" not in _process:
        runtime = _process["factory"]()
        _process["runtime"] = runtime
        _process["limiter"] = RateLimiter(runtime.settings.broker_url, runtime.settings.scale.rate_limits,
                                          engine=runtime.store.engine)
    return _process["runtime"]


def _open_early(**_kw) -> None:
    """A pool process opens its Runtime as it starts, not on its first page (a bad policy or
    an unreachable database shows in the log at once; the first page is not slower)."""
    try:
        _runtime()
    except Exception:   # the first task tries again, and fails visibly
        log.exception("this worker process could not open its runtime")


def run_worker(settings, factory, *, concurrency: int | None = None, name: str | None = None, loglevel: str = "INFO") -> int:
    """Serve the tick's queues (pages and deliveries) with `concurrency` task processes until
    SIGTERM or SIGINT (a warm shutdown: the running tasks finish). Returns an exit status.
    `factory()` makes a task process's `Runtime` (store, policies, dispatcher), on its first task."""
    import os
    import socket

    from celery.signals import worker_process_init

    _process["factory"] = factory
    app = make_app(settings)
    worker_process_init.connect(_open_early, weak=False)
    argv = ["worker", f"--concurrency={concurrency or settings.scale.concurrency}", "--pool=prefork",
            f"--queues={','.join(QUEUES)}", f"--loglevel={loglevel}", "--without-gossip", "--without-mingle",
            f"--hostname={name or f'arrears-{os.getpid()}@{socket.gethostname()}'}"]
    try:
        app.worker_main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


__all__ = ["DELIVERY_QUEUE", "PAGES_QUEUE", "make_app", "run_worker"]
