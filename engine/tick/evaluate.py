"""The evaluation half of a tick: decide every due account, a page at a time, and persist.

Per page: `Store.due_accounts` -> `Store.load_batch` -> `decide_batch` -> one write
transaction that records changed decisions, queues the contacts that may go out before
the next tick (act-once key: account, stage, attempt, episode), and stores each account's
next evaluation time. An account that changed while its page was being decided is left
due (its revision moved on) and is decided again by the next tick, with the change.

Cost follows the due accounts: pages come from the `next_evaluation_at` index, and an
account whose decision did not change costs one UPDATE and no decision row.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from engine.decide import as_epoch, decide_batch
from engine.tick import columns
from engine.store import tickstore


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


def evaluate_due(store, policy, now: datetime, *, horizon: int, batch_size: int = 10_000,
                 lease=None, progress=None, observer=None, stop=None) -> EvalCounts:
    """Evaluate every account due at `now`; see the module docstring.

    `horizon`: contacts whose `not_before` is within this many seconds are queued now.
    `lease.keep()` is called per page; `progress(done, total)` after each page;
    `observer(decisions)` (optional) receives the full `Decision`s that changed, after
    their page is committed; `stop()` returning True ends the run between pages.
    """
    now_s = as_epoch(now)
    counts = EvalCounts()
    total = _due_count(store, now_s) if progress else 0
    after = 0
    while not (stop and stop()):
        if lease is not None:
            lease.keep()
        page = store.due_accounts(now_s, batch_size, after)
        if not len(page):
            break
        after = page.last
        db = decide_batch(store.load_batch(page.acct_nos), policy, now)
        changed_rows = _write_page(store, policy, db, page, now_s, horizon, counts)
        counts.pages += 1
        if observer is not None and len(changed_rows):
            observer([db.decision(int(i)) for i in changed_rows])
        if progress:
            progress(counts.evaluated + counts.stale, max(total, counts.evaluated + counts.stale))
    return counts


def _due_count(store, now_s: int) -> int:
    from sqlalchemy import func, select
    from engine.store.due import due_condition
    from engine.store.schema import accounts
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(accounts).where(due_condition(now_s))).scalar()


def _write_page(store, policy, db, page, now_s: int, horizon: int, counts: EvalCounts) -> np.ndarray:
    """One write transaction for the page; returns the rows whose decision changed."""
    cols = columns.summarise(db)
    acct_nos = page.acct_nos
    with store.transaction(now=now_s) as w:
        rev, old_key, old_id = tickstore.current_state(w.conn, acct_nos)
        fresh = rev == page.revisions
        changed = fresh & (cols.keys != old_key)
        rows = np.flatnonzero(changed)
        new_ids = tickstore.insert_decisions(w.conn, _decision_rows(db, cols, page, rows, policy, now_s))
        queue = np.flatnonzero(fresh & cols.action_ok & (cols.not_before <= now_s + horizon))
        inserted, revived = tickstore.queue_outbox(
            w.conn, _outbox_rows(db, cols, acct_nos, queue, new_ids, old_id, now_s), now_s)
        ok = np.flatnonzero(fresh)
        marks = [(nxt, now_s, r, key, new_ids.get(acct, did), acct, r)
                 for nxt, r, key, did, acct in zip(cols.next_eval[ok].tolist(), page.revisions[ok].tolist(),
                                                   cols.keys[ok].tolist(), old_id[ok].tolist(),
                                                   acct_nos[ok].tolist())]
        tickstore.mark_evaluated(w.conn, marks)
        body = {"evaluated": len(marks), "stale": int((~fresh).sum()), "decisions": len(rows),
                "queued": inserted, "revived": revived, "policy_digest": policy.digest,
                "profiles_digest": policy.profiles_digest,
                "evaluated_at": now_s, "acct_no_range": [int(acct_nos[0]), int(acct_nos[-1])],
                "decisions_sha256": _digest(new_ids, cols, acct_nos, rows)}
        w.audit("tick.page", "accounts", body)
    counts.evaluated += len(marks)
    counts.stale += int((~fresh).sum())
    counts.decisions_written += len(rows)
    counts.actions_queued += inserted + revived
    counts.suppressed += int((cols.suppressed & fresh).sum())
    return rows


def _decision_rows(db, cols, page, rows, policy, now_s: int) -> list[tuple]:
    bodies = columns.bodies(db, cols, rows)
    digest = policy.digest
    return [(acct, now_s, rev, digest, stage, attempt if ok else None, action, channel, nb if ok else None,
             nxt, body)
            for body, acct, rev, stage, ok, attempt, action, channel, nb, nxt in zip(
                bodies, page.acct_nos[rows].tolist(), page.revisions[rows].tolist(), cols.stage[rows].tolist(),
                cols.action_ok[rows].tolist(), cols.attempt[rows].tolist(), cols.action[rows].tolist(),
                cols.channel[rows].tolist(), cols.not_before[rows].tolist(), cols.next_eval[rows].tolist())]


def _outbox_rows(db, cols, acct_nos, queue, new_ids, old_id, now_s: int) -> list[tuple]:
    episodes, payloads = columns.payloads(db, cols, queue, now_s)
    out = []
    for i, episode, payload in zip(queue.tolist(), episodes, payloads):
        acct = int(acct_nos[i])
        out.append((acct, new_ids.get(acct, old_id[i]), cols.stage[i], int(cols.attempt[i]), episode,
                    cols.channel[i], "pending", 0, int(cols.not_before[i]), now_s, now_s, payload))
    return out


def _digest(new_ids: dict, cols, acct_nos, rows) -> str:
    """SHA-256 over the page's new decisions (id, account, key), for the audit entry."""
    h = hashlib.sha256()
    for i in rows.tolist():
        acct = int(acct_nos[i])
        h.update(f"{new_ids.get(acct)}\t{acct}\t{cols.keys[i]}\n".encode("utf-8"))
    return h.hexdigest()


