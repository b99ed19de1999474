"""The tick on Celery workers (issue 18): the leader's half and the workers' page functions.

    scale = Distributed(celery_app, settings.scale, run_id=7)
    run_tick(store, policy, now, dispatcher=dispatcher, scale=scale)      # the leader, under the lease

The leader is the process holding the tick lease (`arrears serve`'s scheduler, or
`arrears tick`), exactly as without a broker; `run_tick` hands the two halves of the tick
to this module instead of `evaluate_due` and `dispatch_due`:

- **evaluate**: the due accounts are read in pages of whole debtors (`evaluate.DuePages`,
  the same pages as a local tick: per-debtor caps hold), each page is recorded as `queued`
  in `tick_pages` and sent as one task (its accounts and the revisions they were due at).
  A worker (`arrears worker`) plans and writes the page with the tick's own code
  (`pageplan.plan_page`, `evaluate.write_page`: the revision and decision-key checks, the
  act-once outbox keys) and marks it `done` in the page's transaction, so a page delivered
  twice is written once; after that commit it passes the page's changed decisions to the
  plugins' `arrears_decision` observers, as a local tick does (`runner.decision_observer`).
  The leader polls `tick_pages` until no page is queued, renewing
  the lease, and sums the pages' counts into the tick's summary.
- **deliver**: the leader marks rows a dead dispatcher left `sending` as `unknown` (as a
  local tick does), splits the due outbox rows by debtor into `delivery_tasks` parts, and
  sends one task each; a worker claims each row with `FOR UPDATE SKIP LOCKED` and
  re-checks, delivers and records it as a local tick does (`dispatch.deliver_rows`),
  waiting on the channel's shared rate limit (`broker.RateLimiter`).

A page the broker could not take (unreachable, restarting) stays `queued` in `tick_pages`
and is sent again, in order and with backoff (`RETRY_FIRST` doubling to `RETRY_MAX` seconds),
once the broker answers; each page is sent once it is taken, so nothing is done twice. No
page finished for `page_timeout` seconds (no worker running, the broker down all that time)
fails the tick with `ScaleTimeout`: the pages it sent stay queued at the broker and are
harmless whenever they run; those it never sent are `stopped` (the next tick decides their
accounts). A broker restarted without persistence loses the tasks it held: when its queues
are empty while pages are still queued and none finished for `resend_after` seconds, the
leader sends those pages again. Retries of a contact use the outbox's backoff as today; a task that hit a
database error is retried by Celery with exponential backoff. A delivery part that outlives
the visibility timeout is handed to a second worker while it runs: both claim rows with
`SKIP LOCKED`, so no row goes out twice, and each adds what it did to the part's counts
(the tick's summary may miss what the later one did after the first finished).
"""
from __future__ import annotations

import logging
import os
import socket
import time
import uuid
import zlib
from dataclasses import asdict, fields
from datetime import datetime

import numpy as np

from arrears.engine.domain.clock import as_epoch
from arrears.engine.domain.errors import ArrearsError
from arrears.engine.experiments.live import Strategies
from arrears.engine.store import outboxstore, tickpages
from arrears.engine.store.db import read_transaction
from arrears.engine.store.due import DuePage
from arrears.engine.tick.dispatch import DispatchCounts, abandon_orphans, deliver_rows
from arrears.engine.tick.evaluate import DuePages, EvalCounts, PolicyChanged, note_plugin_failures, write_page
from arrears.engine.tick.pageplan import plan_page
from arrears.engine.tick.runner import decision_observer

EVALUATE_TASK = "arrears.evaluate_page"
DELIVER_TASK = "arrears.deliver"
PAGES_QUEUE = "arrears.pages"
DELIVERY_QUEUE = "arrears.delivery"
QUEUES = (PAGES_QUEUE, DELIVERY_QUEUE)
POLL = 0.1                  # seconds between the leader's looks at its pages
RETRY_FIRST, RETRY_MAX = 0.5, 30.0      # seconds before sending again what the broker did not take
log = logging.getLogger("arrears.tick")


class ScaleTimeout(ArrearsError):
    """No page of a distributed tick finished for `page_timeout` seconds: no worker is running
    against this broker and database, or they cannot reach one of them."""


class PageDone(Exception):
    """Another delivery of this page finished it first: this one's writes are rolled back."""


def worker_name() -> str:
    """The name a worker process records on the pages it finishes: `host:pid`."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Distributed:
    """The leader's half: enqueue a tick's pages on `app` (a Celery app from `celeryapp`) and
    wait for the workers; see the module docstring. `scale` is `settings.ScaleSettings`."""

    def __init__(self, app, scale, *, run_id: int | None = None, clock=time.time, poll: float = POLL):
        self.app, self.scale, self.run_id, self.clock, self.poll = app, scale, run_id, clock, poll
        self._sent: dict = {}       # (tick, kind, page_no) -> the task sent, to send again if the broker lost it
        self._unsent: list = []     # the keys of `_sent` the broker did not take, in order
        self._retry_at, self._retry_in, self._send_error = 0.0, RETRY_FIRST, None

    def evaluate(self, store, policy, now: datetime, *, horizon: int, batch_size: int, lease=None,
                 progress=None, stop=None, active: str | None = None) -> EvalCounts:
        """Enqueue every due page and wait until the workers have written them all."""
        from arrears.engine.store import policyvers
        now_s = as_epoch(now)
        if active is None:
            with read_transaction(store.engine) as conn:
                active = policyvers.active_digest(conn)
        tickpages.prune(store.engine, self.clock())
        tick, total = uuid.uuid4().hex, store.due_count(now_s)
        for sent, page in enumerate(DuePages(store, now_s, batch_size).until(stop)):
            if lease is not None:
                lease.keep()
            tickpages.queue(store.engine, tick, "evaluate", [(sent, len(page))], run_id=self.run_id, now=self.clock())
            self._send(tick, "evaluate", sent, EVALUATE_TASK, PAGES_QUEUE, [
                tick, sent, policy.digest, active, now.isoformat(), int(horizon),
                page.acct_nos.tolist(), page.revisions.tolist()])

        def report(done: dict) -> None:
            progress(done.get("evaluated", 0) + done.get("stale", 0), total)

        done = self._wait(store, tick, "evaluate", lease, stop, None if progress is None else report)
        counts = _counts(EvalCounts, done)
        counts.pages = done.statuses.get("done", 0)
        counts.stopped = done.notes[0] if done.notes else None
        return counts

    def dispatch(self, store, policy, now: datetime, *, lease=None, stop=None, progress=None) -> DispatchCounts:
        """Enqueue the due contacts, split by debtor into tasks, and wait for their delivery."""
        holder = lease.holder if lease is not None else worker_name()
        orphans = abandon_orphans(store, f"{holder}/leader", now)
        with read_transaction(store.engine) as conn:
            due = outboxstore.due_debtors(conn, as_epoch(now))
        parts: dict[int, list] = {}
        for row_id, acct_no, debtor in due:
            parts.setdefault(zlib.crc32(debtor.encode("utf-8")) % self.scale.delivery_tasks, []).append(
                [row_id, acct_no])
        tick = uuid.uuid4().hex
        tickpages.queue(store.engine, tick, "deliver", [(no, len(rows)) for no, rows in parts.items()],
                        run_id=self.run_id, now=self.clock())
        for no, rows in parts.items():
            self._send(tick, "deliver", no, DELIVER_TASK, DELIVERY_QUEUE, [tick, no, policy.digest, now.isoformat(), rows])
        done = self._wait(store, tick, "deliver", lease, stop,
                          None if progress is None else lambda d: progress(sum(d.values()), len(due)))
        counts = _counts(DispatchCounts, done)
        counts.unknown += orphans.unknown
        return counts

    def _wait(self, store, tick: str, kind: str, lease, stop, progress) -> tickpages.Progress:
        """Poll the pages of `tick` until none is queued (or `stop()`); keeps the lease.

        Sends the queued pages again when the broker holds none of the tick's tasks (its
        queues are empty: a broker restarted without persistence lost them) and no page
        finished for `scale.resend_after` seconds: a page is harmless run twice.
        """
        waiting_since = resent = self.clock()
        while True:
            state = tickpages.progress(store.engine, tick, kind)
            if progress is not None:
                progress(state.counts)
            if not state.queued:
                return state
            if stop and stop():
                self._stop_unsent(store, "the tick was stopped before the broker took this page")
                return state
            if lease is not None:
                lease.keep()
            last = max(waiting_since, state.last_finished or 0.0)
            now = self.clock()
            if self._unsent and now >= self._retry_at:
                self._send_unsent()
            if now - last > self.scale.page_timeout:
                raise self._timeout(store, kind, state.queued)
            if not self._unsent and now - max(last, resent) > self.scale.resend_after and self._lost():
                resent = now
                self._resend(store, tick, kind)
            time.sleep(self.poll)

    def _timeout(self, store, kind: str, queued: int) -> ScaleTimeout:
        """The error that ends a tick whose pages stopped finishing; stops the pages never sent."""
        if not self._unsent:
            return ScaleTimeout(f"no {kind} page of the tick finished in {self.scale.page_timeout:g} s "
                                f"({queued} still queued): are `arrears worker`s running against this broker "
                                "and database?")
        unsent = self._stop_unsent(store, f"the broker could not be reached: {self._send_error}")
        return ScaleTimeout(f"the broker could not be reached for {self.scale.page_timeout:g} s: {unsent} "
                            f"{kind} pages of the tick were never sent ({self._send_error}); is it running?")

    def _stop_unsent(self, store, why: str) -> int:
        """Mark the pages never sent `stopped` (the next tick does their work); returns how many."""
        for tick, kind, page_no in self._unsent:
            tickpages.finish_alone(store.engine, tick, kind, page_no, "stopped",
                                   {"stopped": f"{why}; the next tick does this page's work"}, worker_name(),
                                   self.clock())
        unsent, self._unsent = len(self._unsent), []
        return unsent

    def _lost(self) -> bool:
        """True when the broker holds no task of ours: its queues are empty and no worker
        holds one unacknowledged (Redis). Never on AMQP: its queues are durable, and the
        protocol does not tell what workers hold, so an empty queue proves nothing lost."""
        from arrears.engine.tick.broker import BrokerError, held_by_workers, queue_depth
        url = self.app.conf.broker_url
        try:
            held = held_by_workers(url)
            return held == 0 and not any(queue_depth(url, QUEUES).values())
        except BrokerError:
            return False            # unreachable: nothing to resend through

    def _resend(self, store, tick: str, kind: str) -> None:
        pending = tickpages.queued_pages(store.engine, tick, kind)
        log.warning("tick %s: the broker holds none of its %d queued %s pages: sending them again", tick[:8],
                    len(pending), kind)
        self._unsent.extend((tick, kind, page_no) for page_no in pending)
        self._send_unsent()

    def _send(self, tick: str, kind: str, page_no: int, name: str, queue: str, args: list) -> None:
        """Send a page's task; one the broker does not take waits in `_unsent` (and so does every
        page after it until the broker answers: they are sent in order)."""
        key = (tick, kind, page_no)
        self._sent[key] = (name, queue, args)
        self._unsent.append(key)
        if len(self._unsent) == 1:
            self._send_unsent()

    def _send_unsent(self) -> None:
        """Send the pages the broker has not taken yet, in order, until one fails; after a
        failure the next try is `_retry_in` seconds away, doubling up to `RETRY_MAX`."""
        from kombu.exceptions import OperationalError
        failed_before = self._send_error is not None
        sent = 0
        while self._unsent:
            name, queue, args = self._sent[self._unsent[0]]
            try:
                self.app.send_task(name, queue=queue, args=args)
            except (OperationalError, OSError) as exc:
                if not failed_before or sent:
                    log.warning("the broker did not take a %s page (%s): %d pages wait; sending again in %g s",
                                self._unsent[0][1], exc, len(self._unsent), self._retry_in)
                self._send_error = exc
                self._retry_at = self.clock() + self._retry_in
                self._retry_in = min(self._retry_in * 2, RETRY_MAX)
                return
            self._unsent.pop(0)
            sent += 1
        if failed_before:
            log.warning("the broker answers again: sent the %d pages it had not taken", sent)
        self._retry_in, self._send_error = RETRY_FIRST, None


def _counts(kind, done: tickpages.Progress):
    names = {f.name for f in fields(kind)}
    counts = kind(**{k: int(v) for k, v in done.counts.items() if k in names})
    counts.plugin_failures = done.lists.get("plugin_failures", [])
    return counts


# ---- the workers' half: one call per task (see `celeryapp`) -----------------------------------------------

def evaluate_page(runtime, tick: str, page_no: int, digest: str, active: str | None, at: str, horizon: int,
                  acct_nos: list, revisions: list) -> str:
    """Plan and write one page of a distributed tick in `runtime` (a worker's `Runtime`);
    returns what happened: `done`, `stopped` (another policy is active) or `duplicate`
    (the page was finished already)."""
    store, worker = runtime.store, worker_name()
    with read_transaction(store.engine) as conn:
        if tickpages.status(conn, tick, "evaluate", page_no) != "queued":
            return "duplicate"
    policy = runtime.policies.active(force=True)
    now = datetime.fromisoformat(at)
    now_s = as_epoch(now)
    if policy.digest != digest:
        return _stopped(store, tick, "evaluate", page_no, f"policy {policy.digest} was activated during the tick; "
                        "its accounts are decided by the next tick, under it")
    page = DuePage(np.asarray(acct_nos, dtype=np.int64), np.asarray(revisions, dtype=np.int64))
    strategies = _strategies(runtime, tick, policy, now)
    failures: list = []
    observer = decision_observer(store, runtime.dispatcher, now, failures)
    plan = plan_page(store, policy, page, now, horizon, strategies=strategies,
                     keep_decisions=observer is not None)
    counts = EvalCounts()

    def record(conn, done: dict) -> None:
        if not tickpages.finish(conn, tick, "evaluate", page_no, "done",
                                {**done, "plugin_failures": plan.plugin_failures}, worker, time.time()):
            raise PageDone(page_no)

    try:
        changed = write_page(store, policy, plan, page, now_s, counts, active, strategies, record)
    except PolicyChanged as exc:
        return _stopped(store, tick, "evaluate", page_no, str(exc))
    except PageDone:
        return "duplicate"
    note_plugin_failures(store, plan, page, now_s, counts)
    if observer is not None and len(changed):       # after the commit, at most once: as a local tick
        observer([plan.db.decision(int(i)) for i in changed])
        if failures:        # the leader's summary has them if it had not summed this page yet; the audit has
            tickpages.finish_alone(store.engine, tick, "evaluate", page_no, "done",  # them in any case
                                   {"plugin_failures": failures}, worker, time.time(), merge=True)
    return "done"


def deliver_part(runtime, tick: str, part_no: int, digest: str, at: str, rows: list, *, limiter=None) -> str:
    """Deliver one part of a distributed tick's due contacts in `runtime` (a worker's, with
    its dispatcher); returns `done`, `stopped` or `duplicate` (see `evaluate_page`)."""
    store = runtime.store
    with read_transaction(store.engine) as conn:
        if tickpages.status(conn, tick, "deliver", part_no) != "queued":
            return "duplicate"
    policy = runtime.policies.active(force=True)
    if policy.digest != digest:
        return _stopped(store, tick, "deliver", part_no, f"policy {policy.digest} was activated during the tick; "
                        "its contacts are re-checked by the next tick, under it")
    token = f"{worker_name()}/{tick[:8]}.{part_no}/{uuid.uuid4().hex[:8]}"
    now = datetime.fromisoformat(at)
    strategies = _strategies(runtime, tick, policy, now)
    counts = deliver_rows(store, policy, runtime.dispatcher, [tuple(r) for r in rows], now,
                          token=token, backoff=runtime.settings.backoff, limiter=limiter,
                          strategies=strategies if strategies.live else None)
    if not tickpages.finish_alone(store.engine, tick, "deliver", part_no, "done", asdict(counts), worker_name(),
                                  time.time(), merge=True):
        return "duplicate"
    return "done"


_kept_strategies: dict = {}     # (runtime, tick, policy digest) -> Strategies: loaded once per tick


def _strategies(runtime, tick: str, policy, now: datetime):
    """A running experiment's strategies at the tick's `now` (`experiments.live.Strategies`), as
    the leader of a local tick loads them; loaded once per tick in a worker, not per page."""
    key = (id(runtime), tick, policy.digest)
    kept = _kept_strategies.get(key)
    if kept is None:
        _kept_strategies.clear()
        kept = _kept_strategies[key] = Strategies.load(runtime.store, policy, now,
                                                       facts=getattr(policy, "plugin_facts", None))
    return kept


def _stopped(store, tick: str, kind: str, page_no: int, why: str) -> str:
    tickpages.finish_alone(store.engine, tick, kind, page_no, "stopped", {"stopped": why}, worker_name(), time.time())
    return "stopped"
