"""The evaluation half of a tick: decide every due account, a page at a time, and persist.

Per page of whole debtors: `Store.due_accounts` -> `plan_page` (load, `decide_batch`,
prepare the rows; read-only) -> one write transaction that records changed decisions, queues the
contacts that may go out before the next tick (act-once key: account, stage, attempt,
episode), and stores each account's next evaluation time. An account that changed
while its page was being decided is left due (its revision moved on) and is decided
again by the next tick, with the change.

Large ticks plan pages in worker processes (`arrears.engine.tick.workers`) while this process
writes the page before: the writes, the revision check and the act-once keys stay
here, in one transaction per page, exactly as without workers.

A policy activated while the tick runs ends it at the next page write, before that page
is stored: activation made every account due again (`arrears.engine.store.due.make_all_due`),
and a page decided under the old policy must not mark them evaluated. The next tick
decides them under the new policy.

Cost follows the due accounts: pages come from the `next_evaluation_at` index, and an
account whose decision did not change costs one UPDATE and no decision row.
"""
from __future__ import annotations

import hashlib
import os
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from itertools import repeat

import numpy as np

from arrears.engine.domain.clock import as_epoch
from arrears.engine.experiments.live import Strategies
from arrears.engine.store import audit, experiments, policyvers, tickstore
from arrears.engine.store.db import read_transaction
from arrears.engine.store.debtors import DebtorCursor
from arrears.engine.store.seals import SealBook
from arrears.engine.tick.pageplan import PagePlan, plan_page

PARALLEL_MIN_PAGES = 8          # fewer due pages than this: starting workers (~0.7 s each) does not pay
PARALLEL_MIN_ACCOUNTS = 50_000  # nor for fewer due accounts than this
MAX_WORKERS = 2


class PolicyChanged(Exception):
    """Another policy version was activated while the tick was evaluating: it stopped."""


@dataclass
class EvalCounts:
    """What the evaluation half did."""

    evaluated: int = 0          # accounts whose evaluation was recorded
    stale: int = 0              # changed while being decided: left due for the next tick
    decisions_written: int = 0
    actions_queued: int = 0     # new outbox rows, plus contacts revived after failing or being cancelled
    suppressed: int = 0         # a step is due but a hold, guardrail or missing channel holds it back
    pages: int = 0
    plugin_failures: list = field(default_factory=list)
    stopped: str | None = None  # why the evaluation ended early (another policy was activated)


def evaluate_due(store, policy, now: datetime, *, horizon: int, batch_size: int = 10_000,
                 lease=None, progress=None, observer=None, stop=None, workers: int | None = None,
                 active: str | None = None, strategies=None) -> EvalCounts:
    """Evaluate every account due at `now`; see the module docstring.

    `horizon`: contacts whose `not_before` is within this many seconds are queued now.
    `lease.keep()` is called per page; `progress(done, total)` after each page;
    `observer(decisions)` (optional) receives the full `Decision`s that changed, after
    their page is committed; `stop()` returning True ends the run between pages.
    `workers`: worker processes planning pages; None chooses (none for small ticks,
    with an observer, plugin facts or an in-memory database), 0 plans here. If another
    policy is activated meanwhile, the run ends before its next page write and
    `counts.stopped` says so. `active`: the digest of the store's active policy when the
    caller chose `policy` (the service reads it just before); default: the one active
    when this evaluation starts. `strategies` (`arrears.engine.experiments.live.Strategies`):
    the running experiment's, which decide each account under its debtor's strategy and
    record new debtors' strategies with their page; default: loaded from the store, with
    `policy` as the champion.
    """
    now_s = as_epoch(now)
    counts = EvalCounts()
    if strategies is None:
        strategies = Strategies.load(store, policy, now, facts=getattr(policy, "plugin_facts", None))
    if active is None:
        with read_transaction(store.engine) as conn:
            active = policyvers.active_digest(conn)     # each page write checks it is still active
    total = store.due_count(now_s)
    count = _worker_count(store, policy, observer, total, batch_size, workers)
    pages = DuePages(store, now_s, batch_size)

    def plan_here(page):
        return plan_page(store, policy, page, now, horizon, keep_decisions=observer is not None,
                         strategies=strategies)

    def write(plans) -> None:
        _write_all(store, policy, plans, now_s, counts, lease, progress, total, observer, stop, active,
                   strategies)

    try:
        if count:
            from arrears.engine.tick.workers import Planners
            with Planners(store, policy, now, horizon, count, strategies=strategies) as planners:
                write(_planned_by_workers(planners, pages, stop, plan_here))
        else:
            write((page, plan_here(page)) for page in pages.until(stop))
    except PolicyChanged as exc:
        counts.stopped = str(exc)
    return counts


def _write_all(store, policy, plans, now_s, counts, lease, progress, total, observer, stop, active,
               strategies) -> None:
    for page, plan in plans:
        if lease is not None:
            lease.keep()
        changed_rows = write_page(store, policy, plan, page, now_s, counts, active, strategies)
        note_plugin_failures(store, plan, page, now_s, counts)
        if observer is not None and len(changed_rows):
            observer([plan.db.decision(int(i)) for i in changed_rows])
        if progress:
            done = counts.evaluated + counts.stale
            progress(done, max(total, done))
        if stop and stop():
            return


class DuePages:
    """The due pages, in acct_no order, each read when asked for, each holding whole
    debtors: a due account's other accounts are decided in its page (so per-debtor caps
    count all of them), and no account is in two pages of one tick."""

    def __init__(self, store, now_s: int, batch_size: int):
        self.store, self.now_s, self.batch_size = store, now_s, batch_size
        self.debtors = DebtorCursor()

    def next(self):
        """The next due page, or None at the end."""
        while True:
            page = self.store.due_accounts(self.now_s, self.batch_size, debtors=self.debtors)
            if page.done:
                return None
            if len(page):       # empty when an earlier page took all of it with their debtors
                return page

    def until(self, stop):
        while not (stop and stop()):
            page = self.next()
            if page is None:
                return
            yield page


def _planned_by_workers(planners, pages: DuePages, stop, plan_here):
    """(page, plan) in page order, each worker planning one page ahead of the writer.

    The first page is planned here while the workers start; after that a worker gets
    its next page as soon as its plan is collected, before that plan is written, so the
    workers plan while this process writes.
    """
    upcoming = pages.until(stop)
    first = next(upcoming, None)
    if first is None:
        return
    first_plan = plan_here(first)
    busy: deque = deque()                   # (worker, page), oldest first
    for worker in range(len(planners)):
        page = next(upcoming, None)
        if page is None:
            break
        planners.send(worker, page)
        busy.append((worker, page))
    yield first, first_plan
    while busy:
        worker, page = busy.popleft()
        plan = planners.receive(worker)
        following = next(upcoming, None)
        if following is not None:
            planners.send(worker, following)
            busy.append((worker, following))
        yield page, plan


def _worker_count(store, policy, observer, due: int, batch_size: int, workers: int | None) -> int:
    if workers is not None:
        return max(0, int(workers))
    if observer is not None or getattr(policy, "plugin_facts", None):
        return 0        # full decisions and plugin code belong to this process
    if store.in_memory:
        return 0        # an in-memory database is this process's alone
    if due < max(PARALLEL_MIN_ACCOUNTS, PARALLEL_MIN_PAGES * batch_size):
        return 0
    return min(MAX_WORKERS, os.cpu_count() or 1)


def note_plugin_failures(store, plan: PagePlan, page, now_s: int, counts: EvalCounts) -> None:
    """Count a written page, and audit the plugin facts that failed while it was decided
    (the page was decided with those facts unknown)."""
    counts.pages += 1
    if plan.plugin_failures:
        counts.plugin_failures += plan.plugin_failures
        store.audit("plugin.failed", "tick", {"accounts": len(page.acct_nos),
                                              "failures": plan.plugin_failures}, now=now_s)


def write_page(store, policy, plan: PagePlan, page, now_s: int, counts: EvalCounts,
               active: str | None, strategies=None, record=None) -> np.ndarray:
    """One write transaction for the page; returns the rows whose decision changed.

    Everything the plan assumed is checked again under the write lock: an account whose
    revision moved on, or whose stored decision key changed since the plan read it, is
    left due for the next tick. PolicyChanged (nothing written) if the active policy is
    no longer `active`, the one active when the tick started. The debtors the plan assigned
    to an experiment's `strategies` are recorded in the same transaction. `record(conn,
    page_counts)`, if given, runs last in the same transaction (a distributed tick's worker marks
    its page done there; an exception it raises rolls the whole page back).
    """
    acct_nos = page.acct_nos
    # Synchronous NORMAL, a larger page cache, fewer checkpoints: see tickstore.page_transaction.
    with store.tick_page() as conn:
        now_active = policyvers.active_digest(conn)
        if now_active != active:
            raise PolicyChanged(f"policy {now_active} was activated during the tick; the accounts not yet "
                                f"decided are decided by the next tick, under it")
        rev, old_key, old_id = tickstore.current_state(conn, acct_nos)
        fresh = rev == page.revisions
        differs = np.flatnonzero(plan.keys != old_key)
        # A plan made ahead has no row for a key that changed after it was made: decide again.
        fresh[differs[~plan.can_write(differs)]] = False
        rows = differs[fresh[differs]]
        # The page's rows are sealed under its one `tick.page` entry (store/seals.py).
        seq, book = audit.next_seq(conn), SealBook()
        new_ids = tickstore.insert_decisions(conn, plan.decisions_for(rows), seq, book)
        decision_id = old_id.copy()     # each account's decision id: the new one, else the stored one
        decision_id[rows] = new_ids
        inserted, revived = tickstore.queue_outbox(conn, *_outbox_rows(plan, fresh, decision_id), now_s,
                                                   seq, book)
        ok = np.flatnonzero(fresh)
        tickstore.mark_evaluated(conn, _mark_rows(page, plan, ok, decision_id[ok].tolist(), now_s))
        stale = len(page) - len(ok)
        body = {}
        if strategies is not None and strategies.live:
            assigned = experiments.record_assignments(conn, strategies.experiment_id, plan.assignments, now_s)
            body = {"experiment": strategies.experiment.name, "assigned": assigned}
        body |= {"evaluated": len(ok), "stale": stale, "decisions": len(rows),
                "queued": inserted, "revived": revived, "policy_digest": policy.digest,
                "profiles_digest": policy.profiles_digest,
                "evaluated_at": now_s, "acct_no_range": [int(acct_nos[0]), int(acct_nos[-1])],
                "decisions_sha256": _digest(new_ids, plan.keys, acct_nos, rows)}
        audit.append(conn, "tick.page", "accounts", body, now_s, seals=book, expect_seq=seq)
        done = {"evaluated": len(ok), "stale": stale, "decisions_written": len(rows),
                "actions_queued": inserted + revived, "suppressed": int((plan.suppressed & fresh).sum())}
        if record is not None:
            record(conn, done)
    for name, value in done.items():
        setattr(counts, name, getattr(counts, name) + value)
    return rows


def _outbox_rows(plan: PagePlan, fresh: np.ndarray, decision_id: np.ndarray) -> tuple[list, list, list]:
    """The plan's outbox rows of the fresh accounts, their decision ids (`decision_id`: each
    page row's, the new decision's, else the account's stored one), and their open seals."""
    keep = np.flatnonzero(fresh[plan.queue])
    if len(keep) == len(plan.queue):
        rows, seals = plan.outbox_rows, plan.outbox_seals
    else:
        at = keep.tolist()
        rows, seals = [plan.outbox_rows[i] for i in at], [plan.outbox_seals[i] for i in at]
    return rows, decision_id[plan.queue[keep]].tolist(), seals


def _mark_rows(page, plan: PagePlan, ok: np.ndarray, decision_ids: list, now_s: int) -> list[tuple]:
    """`tickstore.mark_evaluated` rows of the rows `ok`, with each row's decision id."""
    revs = page.revisions[ok].tolist()
    nxt = plan.next_eval if len(ok) == len(page) else [plan.next_eval[i] for i in ok.tolist()]
    return list(zip(nxt, repeat(now_s), revs, plan.keys[ok].tolist(), decision_ids,
                    page.acct_nos[ok].tolist(), revs))


def _digest(new_ids: list, keys: np.ndarray, acct_nos: np.ndarray, rows: np.ndarray) -> str:
    """SHA-256 over the page's new decisions (id, account, key; `new_ids` aligned with `rows`),
    for the audit entry."""
    lines = map("{}\t{}\t{}\n".format, new_ids, acct_nos[rows].tolist(), keys[rows].tolist())
    return hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()
