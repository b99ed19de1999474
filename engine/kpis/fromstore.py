"""Ledgers from the store (in bounded memory) or from a decision-core `Batch`.

    ledger = ledger_from_store(store, policy, segment_days=[end_day])
    ledger = ledger_from_batch(batch, policy, segment_days=[end_day])

The store is read in pages of accounts in one read transaction (one consistent
snapshot): each page is loaded with the tick's own `batchload.load_batch`, turned into
ledger columns and dropped, so memory holds the compact ledger plus one page.
Event instants become the debtor's local days (the account's time zone, else the
policy's default zone). Stages come from the `decisions` table: the stage of each
stored decision, on the local day it was evaluated. Segment membership is evaluated
with the policy's segment conditions on the core's facts at the end of each of
`segment_days` (23:59:59 UTC), the same conditions decisions use.
"""
from __future__ import annotations

import numpy as np

from arrears.engine.domain import tzutil
from arrears.engine.domain.batch import EVENT_CODES as E
from arrears.engine.domain.batch import NO_DAY, Batch
from arrears.engine.domain.clock import DAY
from arrears.engine.facts.compute import Facts
from arrears.engine.kpis.ledger import (
    Contacts,
    Disputes,
    Flows,
    Invoices,
    Ledger,
    Promises,
    Segments,
    Stages,
    concat,
    object_array,
    shared_array,
)
from arrears.engine.kpis.tally import Tally
from arrears.engine.store import decisionreads, scan
from arrears.engine.store.batchload import load_batch
from arrears.engine.store.db import read_transaction

PAGE = 10_000


def _policy(policy):
    if policy is None:
        from arrears.engine.kpis.compute import default_policy
        return default_policy()
    return policy


def _zones(batch: Batch, policy) -> list:
    return [name or policy.default_timezone for name in batch.tz_names]


def ledger_from_batch(batch: Batch, policy=None, *, acct_keys=None, segment_days=(), stages=None) -> Ledger:
    """The ledger of a `Batch` (its accounts, invoices and events); `stages` a `Stages` table."""
    policy = _policy(policy)
    zones = _zones(batch, policy)
    day = tzutil.local_days(zones, batch.tz[batch.ev_acct], batch.ev_at).astype(np.int32) \
        if len(batch.ev_at) else np.zeros(0, dtype=np.int32)
    t, a = batch.ev_type, batch.ev_acct

    def flows(code):
        m = t == code
        return Flows.of(a[m], day[m], batch.ev_amount[m], batch.ev_inv[m])
    disputes = (t == E["dispute_opened"]) | (t == E["dispute_resolved"])
    contacts = (t == E["contact_attempt"]) | (t == E["contact_outcome"])
    promise = t == E["promise_to_pay"]
    until = batch.ev_until[promise]
    issued = batch.inv_issued if batch.inv_issued is not None else np.full(len(batch.inv_due), NO_DAY)
    return Ledger(
        account_ids=object_array(batch.ids),
        acct_keys=np.arange(1, batch.n + 1, dtype=np.int64) if acct_keys is None
        else np.asarray(acct_keys, dtype=np.int64),
        currency=shared_array(batch.currency),
        invoices=Invoices.of(batch.inv_acct, batch.inv_amount, batch.inv_due, np.where(
            issued == NO_DAY, batch.inv_due, issued)),
        payments=flows(E["payment"]), credit_notes=flows(E["credit_note"]), write_offs=flows(E["write_off"]),
        disputes=Disputes.of(a[disputes], day[disputes], batch.ev_inv[disputes],
                             t[disputes] == E["dispute_opened"]),
        contacts=Contacts.of(a[contacts], day[contacts], batch.ev_kind[contacts], batch.ev_outcome[contacts],
                             t[contacts] == E["contact_outcome"]),
        promises=Promises.of(a[promise], day[promise], np.where(until == NO_DAY, day[promise], until),
                             batch.ev_amount[promise]),
        stages=stages if stages is not None else Stages.of(),
        segments=segment_snapshots(batch, policy, segment_days),
    )


def segment_snapshots(batch: Batch, policy, days) -> Segments:
    """Which of the policy's segments each account is in at the end of each of `days`."""
    days = sorted({int(d) for d in days})
    names = tuple(policy.segments)
    member = np.zeros((len(days), len(names), batch.n), dtype=bool)
    for i, d in enumerate(days):
        facts = Facts(batch, policy, (d + 1) * DAY - 1)
        for j, name in enumerate(names):
            member[i, j] = facts.segment_mask(name)
    return Segments(names, np.asarray(days, dtype=np.int32), member)


def _stages(conn, nos: np.ndarray, batch: Batch, policy, *, spread: bool = False) -> Stages:
    """The stored decisions of the accounts `nos` (rows of `batch`) as a Stages table; `spread`:
    the keys are not one run of stored accounts (read by key, not by range)."""
    rows = decisionreads.stage_rows_of(conn, nos) if spread else \
        decisionreads.stage_rows(conn, int(nos[0]), int(nos[-1]))
    if not rows:
        return Stages.of()
    acct_no, at, stage, strategy = zip(*rows)
    acct = np.searchsorted(nos, np.asarray(acct_no, dtype=np.int64))
    known = (acct < len(nos)) & (nos[np.minimum(acct, len(nos) - 1)] == np.asarray(acct_no))
    acct, at = acct[known], np.asarray(at, dtype=np.int64)[known]
    day = tzutil.local_days(_zones(batch, policy), batch.tz[acct], at)
    return Stages.of(acct, day, shared_array(stage)[known], shared_array(strategy)[known])


def _ledger_of(conn, nos: np.ndarray, policy, segment_days, page: int = PAGE) -> Ledger:
    """The ledger of the stored accounts `nos` (increasing, any spread), a page at a time."""
    parts = []
    for i in range(0, len(nos), page):
        keys = nos[i:i + page]
        batch = load_batch(conn, keys)
        parts.append(ledger_from_batch(batch, policy, acct_keys=keys, segment_days=segment_days,
                                       stages=_stages(conn, keys, batch, policy, spread=True)))
    return concat(parts, tuple(policy.segments), segment_days)


class StoreTally:
    """A `Tally` of every stored account, kept between reads: `update()` reads again only the
    accounts whose revision changed (the account or its history) or that were decided since the
    last read, and new and deleted ones, so its reports stay those of a full read of the store.
    Its segment days are fixed: a new day wants a new StoreTally."""

    def __init__(self, store, policy, *, segment_days=(), costs=None, scopes=(None,)):
        self.store, self.policy, self.segment_days = store, policy, sorted({int(d) for d in segment_days})
        with read_transaction(store.engine) as conn:
            self._marks(conn)
        self.tally = Tally(ledger_from_store(store, policy, segment_days=self.segment_days), policy, costs, scopes)

    def _marks(self, conn) -> tuple:
        """Read the revisions and the newest decision id; returns the previous ones."""
        empty = np.zeros(0, dtype=np.int64)
        before = getattr(self, "keys", empty), getattr(self, "revisions", empty), getattr(self, "decided", 0)
        rows = scan.revisions(conn)
        self.keys = np.asarray([r[0] for r in rows], dtype=np.int64)
        self.revisions = np.asarray([r[1] for r in rows], dtype=np.int64)
        self.decided = scan.last_decision_id(conn)
        return before

    def update(self) -> int:
        """Follow the store's changes since the last read; returns how many accounts were read."""
        with read_transaction(self.store.engine) as conn:
            old_keys, old_revs, decided = self._marks(conn)       # self.keys, self.revisions: now
            if len(old_keys):
                pos = np.minimum(np.searchsorted(old_keys, self.keys), len(old_keys) - 1)
                same = (old_keys[pos] == self.keys) & (old_revs[pos] == self.revisions)
                changed = self.keys[~same]
            else:
                changed = self.keys
            redecided = np.asarray(scan.decided_after(conn, decided), dtype=np.int64)
            read = np.union1d(changed, np.intersect1d(redecided, self.keys))
            deleted = np.setdiff1d(old_keys, self.keys)
            new = _ledger_of(conn, read, self.policy, self.segment_days)
        gone = np.isin(self.tally.ledger.acct_keys, np.union1d(read, deleted))
        self.tally.replace(gone, new)
        return len(read)


def ledger_from_store(store, policy=None, *, segment_days=(), page: int = PAGE) -> Ledger:
    """The ledger of every stored account, read page by page in one snapshot."""
    policy = _policy(policy)
    parts = []
    with read_transaction(store.engine) as conn:
        last = 0
        while True:
            nos = np.asarray(scan.acct_nos_after(conn, last, page), dtype=np.int64)
            if not len(nos):
                break
            batch = load_batch(conn, nos)
            parts.append(ledger_from_batch(batch, policy, acct_keys=nos, segment_days=segment_days,
                                           stages=_stages(conn, nos, batch, policy)))
            last = int(nos[-1])
    return concat(parts, tuple(policy.segments), segment_days)
