"""The read-only half of evaluating a page: load, decide, and prepare every row to write.

    plan = plan_page(store, policy, page, now, horizon)

`plan_page` reads the page's accounts (one snapshot for the stored decision keys, one
for the decision core's columns), decides them column-wise, and builds everything the
page's write transaction stores: the new decision keys and next evaluation times, the
`decisions` rows of the accounts whose key differs from the stored one, and the outbox
rows of the contacts that may go out within the horizon. It writes nothing, so it can
run in a worker process (`arrears.engine.tick.workers`) while the ticking process writes the
previous page; `arrears.engine.tick.evaluate` then re-checks everything under the write lock.

A `PagePlan` is plain data (lists, tuples, NumPy arrays): cheap to pickle, and the
writer only filters and zips it. The rows' seals are computed here too, so a worker
takes that work off the writer; a `decisions` row carries its seal, in the order the
insert takes it. Outbox rows carry no decision id: the id is known only once the page's
decisions are inserted, so their seals are left open at it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from arrears.engine.decisions.core import decide_batch
from arrears.engine.domain.clock import as_epoch
from arrears.engine.store import tickstore
from arrears.engine.store.db import read_transaction
from arrears.engine.store.due import DuePage
from arrears.engine.tick import columns


@dataclass
class PagePlan:
    """What one page's write transaction stores, aligned with the page's rows."""

    keys: np.ndarray            # object: each account's new decision key
    next_eval: list             # int epoch s: each account's next evaluation
    suppressed: np.ndarray      # bool: a step is due but held back
    queue: np.ndarray           # int64: rows with a contact to queue
    outbox_rows: list           # tickstore.OUTBOX_PLANNED tuples of the `queue` rows (no decision id)
    outbox_seals: list          # their seals, open at the decision id (tickstore.planned_outbox)
    has_body: np.ndarray | None = None   # bool: rows whose `decisions` row is in `decision_rows`
    decision_rows: list = field(default_factory=list)   # tickstore.DECISION_ROW tuples (sealed) of `has_body`
    db: object = None           # the DecisionBatch (kept in the process that decided, never pickled)
    plugin_failures: list = field(default_factory=list)  # plugin facts that failed for this page (dicts)
    assignments: list = field(default_factory=list)      # (debtor, arm) first assigned by this page's experiment split
    _build: object = field(default=None, repr=False)    # builds any rows' decisions, while `db` is kept

    def can_write(self, rows: np.ndarray) -> np.ndarray:
        """Which of `rows` this plan has (or can build) a `decisions` row for."""
        return np.ones(len(rows), dtype=bool) if self._build else self.has_body[rows]

    def decisions_for(self, rows: np.ndarray) -> list[tuple]:
        """The sealed `decisions` rows (tickstore.DECISION_ROW) of `rows` (each must pass `can_write`)."""
        if self._build:
            return self._build(rows)
        at = (np.cumsum(self.has_body) - 1)[rows].tolist()
        if len(at) == len(self.decision_rows):      # all of them (a first tick): no copy
            return self.decision_rows
        return [self.decision_rows[i] for i in at]

    def __getstate__(self):
        state = dict(self.__dict__)
        state["db"] = state["_build"] = None     # the decision columns stay where they were computed
        # The seals travel as one text per list (canonical JSON has no raw newline): pickling
        # 10 000 strings one by one costs more than joining them here and splitting them there.
        state["outbox_seals"] = (_joined(h for h, _ in self.outbox_seals),
                                 _joined(t for _, t in self.outbox_seals))
        return state

    def __setstate__(self, state):
        heads, tails = state["outbox_seals"]
        state["outbox_seals"] = list(zip(_split(heads), _split(tails)))
        self.__dict__.update(state)


def _joined(texts) -> str | None:
    texts = list(texts)
    return "\n".join(texts) if texts else None


def _split(text: str | None) -> list[str]:
    return text.split("\n") if text is not None else []


def plan_page(store, policy, page, now: datetime, horizon: int, *, ahead: bool = False,
              keep_decisions: bool = False, strategies=None) -> PagePlan:
    """Load, decide and prepare the page `page` (a `DuePage`) at `now`; writes nothing.

    `ahead`: the plan is for another process (a worker): every `decisions` row it may
    need is built now, i.e. for each account whose new key differs from the stored one
    (read here). Otherwise they are built when written, for the rows that changed.
    `keep_decisions` keeps the `DecisionBatch` on the plan (`plan.db`), for observers
    that want full decisions. `strategies` (`arrears.engine.experiments.live.Strategies`):
    while an experiment runs, each account is decided under its debtor's strategy, one
    column-wise `decide_batch` per strategy, and the plans are merged in page order.
    """
    stored = None
    if ahead:
        with read_transaction(store.engine) as conn:
            stored = tickstore.current_state(conn, page.acct_nos)[1]
    batch = store.load_batch(page.acct_nos)
    if strategies is not None and strategies.live:
        return _plan_split(store, strategies, page, batch, stored, now, horizon, keep_decisions)
    return _plan(policy, page, batch, stored, now, horizon, keep_decisions)


def _plan(policy, page, batch, stored, now: datetime, horizon: int, keep_decisions: bool,
          tag: tuple = (None, None)) -> PagePlan:
    """The plan of `page` (its loaded `batch`) decided under `policy`; `stored`: the stored
    decision keys when planning ahead (every changed row's `decisions` row built now), else None.
    `tag`: (experiment id, each row's strategy as an object array) recorded on every decisions and
    outbox row; (None, None) outside an experiment."""
    now_s = as_epoch(now)
    db = decide_batch(batch, policy, now)
    cols = columns.summarise(db)
    keys = cols.keys if tag[1] is None else _tagged_keys(cols.keys, tag)
    queue = np.flatnonzero(cols.action_ok & (cols.not_before <= now_s + horizon))
    outbox_rows, outbox_seals = _outbox_rows(db, cols, page.acct_nos, queue, now_s, tag)
    plan = PagePlan(keys=keys, next_eval=cols.next_eval.tolist(), suppressed=cols.suppressed,
                    queue=queue, outbox_rows=outbox_rows, outbox_seals=outbox_seals,
                    db=db if keep_decisions else None, plugin_failures=db.plugin_failures)

    def sealed(rows: np.ndarray) -> list[tuple]:
        return _decision_rows(db, cols, page, rows, policy, now_s, tag)
    if stored is not None:
        plan.has_body = keys != stored
        plan.decision_rows = sealed(np.flatnonzero(plan.has_body))
    else:
        plan._build = sealed
    return plan


def _tagged_keys(keys: np.ndarray, tag: tuple) -> np.ndarray:
    """Decision keys that include the experiment and strategy: an account's first decision under an
    experiment (and its first after it) is stored as a new `decisions` row recording them, even
    where the step itself is unchanged."""
    experiment_id, strategy = tag
    out = np.empty(len(keys), dtype=object)
    for arm in dict.fromkeys(strategy.tolist()):        # a few strategies: one suffix each
        rows = strategy == arm
        out[rows] = keys[rows] + f"|x{experiment_id}:{arm}"
    return out


def _tags(tag: tuple, rows: np.ndarray) -> tuple:
    """The experiment id and strategy columns of `rows`."""
    experiment_id, strategy = tag
    if strategy is None:
        return [None] * len(rows), [None] * len(rows)
    return [experiment_id] * len(rows), strategy[rows].tolist()


def _decision_rows(db, cols, page, rows: np.ndarray, policy, now_s: int, tag: tuple) -> list[tuple]:
    """Sealed `decisions` rows (tickstore.DECISION_ROW order) of `rows`, built column by column."""
    ok = cols.action_ok[rows]
    attempt = np.where(ok, cols.attempt[rows], 0).tolist()
    n = len(rows)
    return tickstore.sealed_decision_rows([
        page.acct_nos[rows].tolist(), [now_s] * n, page.revisions[rows].tolist(), [policy.digest] * n,
        cols.stage[rows].tolist(), [a if o else None for a, o in zip(attempt, ok.tolist())],
        cols.action[rows].tolist(), cols.channel[rows].tolist(),
        [nb if o else None for nb, o in zip(cols.not_before[rows].tolist(), ok.tolist())],
        cols.next_eval[rows].tolist(), columns.bodies(db, cols, rows), columns.priorities(db, rows),
        *_tags(tag, rows)])


def _outbox_rows(db, cols, acct_nos: np.ndarray, queue: np.ndarray, now_s: int,
                 tag: tuple) -> tuple[list[tuple], list[tuple[str, str]]]:
    """Outbox rows (tickstore.OUTBOX_PLANNED order) of the contacts in `queue`, and their seals
    left open at the decision id."""
    episodes, payloads = columns.payloads(db, cols, queue, now_s)
    n = len(queue)
    return tickstore.planned_outbox([
        acct_nos[queue].tolist(), cols.stage[queue].tolist(), cols.attempt[queue].tolist(), episodes,
        cols.channel[queue].tolist(), ["pending"] * n, [0] * n, cols.not_before[queue].tolist(),
        [now_s] * n, [now_s] * n, payloads, *_tags(tag, queue)])


def _plan_split(store, strategies, page, batch, stored, now, horizon, keep_decisions) -> PagePlan:
    """The page decided per strategy and merged back in page order: its one loaded `batch` is
    split in memory (`Batch.take`), one sub-batch and one `decide_batch` per distinct policy."""
    split = strategies.split(store, page.acct_nos, batch, now)
    groups: dict[str, tuple] = {}
    for arm in dict.fromkeys(split.arms.tolist()):
        policy = strategies.policy_of(arm)
        mask = split.arms == arm
        if policy.digest in groups:
            mask |= groups[policy.digest][1]
        groups[policy.digest] = (policy, mask)
    parts = []
    for policy, mask in groups.values():
        idx = np.flatnonzero(mask)
        whole = len(idx) == len(page)
        sub = page if whole else DuePage(page.acct_nos[idx], page.revisions[idx])
        sub_stored = None if stored is None else (stored if whole else stored[idx])
        parts.append((idx, _plan(policy, sub, batch.take(idx), sub_stored, now, horizon, keep_decisions,
                                 (strategies.experiment_id, split.arms[idx]))))
    plan = parts[0][1] if len(parts) == 1 else _merge(len(page), parts, stored is not None)
    plan.assignments = split.new
    return plan


def _merge(n: int, parts: list, ahead: bool) -> PagePlan:
    """One PagePlan, in page order, of the sub-pages' plans `parts` ((page rows, plan) each)."""
    keys = np.empty(n, dtype=object)
    next_eval = np.zeros(n, dtype=np.int64)
    suppressed = np.zeros(n, dtype=bool)
    part_of, local = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    queued, outbox, outbox_seals, failures = [], [], [], []
    for k, (idx, plan) in enumerate(parts):
        keys[idx], next_eval[idx], suppressed[idx] = plan.keys, plan.next_eval, plan.suppressed
        part_of[idx], local[idx] = k, np.arange(len(idx))
        queued.append(idx[plan.queue])
        outbox += plan.outbox_rows
        outbox_seals += plan.outbox_seals
        failures += plan.plugin_failures
    queue = np.concatenate(queued)
    order = np.argsort(queue, kind="stable").tolist()
    merged = PagePlan(keys=keys, next_eval=next_eval.tolist(), suppressed=suppressed, queue=queue[order],
                      outbox_rows=[outbox[i] for i in order], outbox_seals=[outbox_seals[i] for i in order],
                      plugin_failures=failures)
    plans = [plan for _, plan in parts]
    if ahead:
        merged.has_body = np.zeros(n, dtype=bool)
        bodies = []
        for idx, plan in parts:
            merged.has_body[idx] = plan.has_body
            at = idx[np.flatnonzero(plan.has_body)].tolist()
            bodies += zip(at, plan.decision_rows)
        bodies.sort(key=lambda b: b[0])
        merged.decision_rows = [b[1] for b in bodies]
    else:
        def build(rows: np.ndarray) -> list[tuple]:
            out = [None] * len(rows)
            for k, plan in enumerate(plans):
                at = np.flatnonzero(part_of[rows] == k)
                for i, row in zip(at.tolist(), plan.decisions_for(local[rows[at]])):
                    out[i] = row
            return out
        merged._build = build
    if all(plan.db is not None for plan in plans):
        merged.db = _Decisions(plans, part_of, local)
    return merged


class _Decisions:
    """The merged page's `decision(i)`, from the sub-pages' DecisionBatches (for observers)."""

    def __init__(self, plans, part_of, local):
        self.plans, self.part_of, self.local = plans, part_of, local

    def decision(self, i: int):
        """The full Decision of page row `i`."""
        return self.plans[int(self.part_of[i])].db.decision(int(self.local[i]))
