"""Balances and lateness at the end of any day, by the decision core's own money rules.

The ledger's money events become a small `Batch` (payments, credit notes, write-offs
and disputes, each at `day * 86400 + its rank within the day`, all accounts in UTC),
and `arrears.engine.facts.compute.Facts` evaluated at the last second of a day gives what the core
would see then: open amount per invoice (payments to their invoice first, then oldest
first, undisputed before disputed), the balance, days past the oldest unpaid due
date and the policy's aging bucket. Nothing about the allocation is re-implemented.
Invoices issued after the day are left out (their amount is zero that day).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from arrears.engine.domain.batch import EVENT_CODES as E
from arrears.engine.domain.batch import NO_DAY, Batch
from arrears.engine.domain.clock import DAY
from arrears.engine.domain.money import exponent
from arrears.engine.facts.compute import Facts
from arrears.engine.kpis.ledger import Ledger

NO_BUCKET = -1


@dataclass(frozen=True)
class Positions:
    """Per account, at the end of one day."""

    balance: np.ndarray       # int64: everything open (disputed included)
    current: np.ndarray       # int64: open on invoices not yet past due (due day >= the day)
    past_due: np.ndarray      # int64: open on invoices past due
    days_past_due: np.ndarray  # int64: days past the oldest unpaid due date (core rule), 0 if none
    bucket: np.ndarray        # int64: aging bucket index, NO_BUCKET without a balance
    delinquent: np.ndarray    # bool: a balance, and days past due > 0


def money_batch(ledger: Ledger) -> Batch:
    """The ledger's invoices and money events as a `Batch` the core's facts can read."""
    n = ledger.n
    parts = [(ledger.payments, E["payment"]), (ledger.credit_notes, E["credit_note"]),
             (ledger.write_offs, E["write_off"])]
    acct = np.concatenate([t.acct for t, _ in parts] + [ledger.disputes.acct]).astype(np.int32)
    day = np.concatenate([t.day for t, _ in parts] + [ledger.disputes.day]).astype(np.int64)
    amount = np.concatenate([t.amount for t, _ in parts] + [np.zeros(len(ledger.disputes), np.int64)])
    inv = np.concatenate([t.invoice for t, _ in parts] + [ledger.disputes.invoice]).astype(np.int32)
    d = ledger.disputes
    types = np.concatenate([np.full(len(t), code, np.int8) for t, code in parts]
                           + [np.where(d.opened, E["dispute_opened"], E["dispute_resolved"]).astype(np.int8)])
    # Stable: disputes keep their order within a day, which is all that ordering decides.
    order = np.lexsort((day, acct)) if acct.size else np.zeros(0, dtype=np.int64)
    acct, day, amount, inv, types = acct[order], day[order], amount[order], inv[order], types[order]
    at = day * DAY + np.minimum(_rank_within(acct, day), DAY - 1)
    none_n = np.full(n, None, dtype=object)
    k, m = len(ledger.invoices), len(acct)
    return Batch(
        ids=list(ledger.account_ids), currency=ledger.currency,
        scale=_scales(ledger.currency),
        tz_names=["UTC"], tz=np.zeros(n, dtype=np.int32), debtor_type=none_n, jurisdiction=none_n,
        language=none_n, tier=none_n, tags=none_n, risk=np.full(n, np.nan), on_time=np.full(n, np.nan),
        reach=np.zeros(n, dtype=np.int64), prefs=none_n, manager=none_n, debtor=none_n, extra_tz=none_n,
        inv_acct=ledger.invoices.acct, inv_id=np.full(k, None, dtype=object),
        inv_amount=ledger.invoices.amount, inv_due=ledger.invoices.due_day,
        ev_acct=acct, ev_type=types, ev_at=at, ev_amount=amount, ev_inv=inv,
        ev_kind=np.full(m, -1, dtype=np.int8), ev_outcome=np.full(m, -1, dtype=np.int8),
        ev_stage=np.full(m, None, dtype=object), ev_until=np.full(m, NO_DAY, dtype=np.int32),
        pi_event=np.zeros(0, np.int32), pi_due=np.zeros(0, np.int32), pi_amount=np.zeros(0, np.int64),
        inv_issued=ledger.invoices.issued_day)


def _scales(currency: np.ndarray) -> np.ndarray:
    """10 ** the minor-unit exponent of each account's currency (computed once per currency)."""
    if not len(currency):
        return np.zeros(0, dtype=np.int64)
    names, codes = np.unique(currency.astype(str), return_inverse=True)
    return np.asarray([10 ** exponent(c) for c in names.tolist()], dtype=np.int64)[codes.reshape(-1)]


def _rank_within(acct: np.ndarray, day: np.ndarray) -> np.ndarray:
    """0, 1, 2 … within each run of equal (acct, day) in sorted rows."""
    if acct.size == 0:
        return np.zeros(0, dtype=np.int64)
    new = np.r_[True, (acct[1:] != acct[:-1]) | (day[1:] != day[:-1])]
    starts = np.flatnonzero(new)
    idx = np.arange(acct.size, dtype=np.int64)
    return idx - np.repeat(starts, np.diff(np.r_[starts, acct.size]))


def positions(batch: Batch, policy, day: int) -> Positions:
    """Every account's position at the end of `day`, from `money_batch(ledger)`."""
    issued = batch.inv_issued <= day
    facts = Facts(replace(batch, inv_amount=np.where(issued, batch.inv_amount, 0)), policy,
                  int(day) * DAY + DAY - 1)
    open_ = facts.invoice_open
    not_due = batch.inv_due >= day
    current = np.zeros(batch.n, dtype=np.int64)
    np.add.at(current, batch.inv_acct[not_due], open_[not_due])
    balance = facts.total_balance
    dpd = facts.days_past_due.astype(np.int64)
    has = balance > 0
    return Positions(balance=balance, current=current, past_due=balance - current, days_past_due=dpd,
                     bucket=np.where(has, facts.bucket_index, NO_BUCKET).astype(np.int64),
                     delinquent=has & (dpd > 0))
