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

from dataclasses import fields

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
    object_array,
)
from arrears.engine.store import decisionreads, scan
from arrears.engine.store.batchload import load_batch
from arrears.engine.store.db import read_transaction

PAGE = 10_000
_TABLES = ("invoices", "payments", "credit_notes", "write_offs", "disputes", "contacts", "promises", "stages")


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
        currency=object_array(batch.currency),
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


def _stages(conn, nos: np.ndarray, batch: Batch, policy) -> Stages:
    """The stored decisions of the accounts `nos` (rows of `batch`) as a Stages table."""
    rows = decisionreads.stage_rows(conn, int(nos[0]), int(nos[-1]))
    if not rows:
        return Stages.of()
    acct_no, at, stage = zip(*rows)
    acct = np.searchsorted(nos, np.asarray(acct_no, dtype=np.int64))
    known = (acct < len(nos)) & (nos[np.minimum(acct, len(nos) - 1)] == np.asarray(acct_no))
    acct, at = acct[known], np.asarray(at, dtype=np.int64)[known]
    day = tzutil.local_days(_zones(batch, policy), batch.tz[acct], at)
    return Stages.of(acct, day, np.asarray(stage, dtype=object)[known])


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
    return concat(parts, policy, segment_days)


def concat(parts: list, policy=None, segment_days=()) -> Ledger:
    """One ledger from several (accounts appended in order; rows and invoice references shifted)."""
    if not parts:
        names = tuple(_policy(policy).segments)
        days = sorted({int(d) for d in segment_days})
        member = np.zeros((len(days), len(names), 0), dtype=bool)
        return Ledger(object_array([]), np.zeros(0, np.int64), object_array([]),
                      segments=Segments(names, np.asarray(days, np.int32), member))
    if len(parts) == 1:
        return parts[0]
    acct_off = np.cumsum([0] + [p.n for p in parts[:-1]])
    inv_off = np.cumsum([0] + [len(p.invoices) for p in parts[:-1]])
    tables = {}
    for name in _TABLES:
        cls = type(getattr(parts[0], name))
        cols = {}
        for f in fields(cls):
            pieces = []
            for p, ao, io in zip(parts, acct_off, inv_off):
                col = getattr(getattr(p, name), f.name)
                if f.name == "acct":
                    col = col + np.int32(ao)
                elif f.name == "invoice":
                    col = np.where(col >= 0, col + np.int32(io), col).astype(np.int32)
                pieces.append(col)
            cols[f.name] = np.concatenate(pieces)
        tables[name] = cls(**cols)
    seg = parts[0].segments
    member = np.concatenate([p.segments.member for p in parts], axis=2)
    return Ledger(account_ids=np.concatenate([p.account_ids for p in parts]),
                  acct_keys=np.concatenate([p.acct_keys for p in parts]),
                  currency=np.concatenate([p.currency for p in parts]),
                  segments=Segments(seg.names, seg.days, member),
                  **tables)
