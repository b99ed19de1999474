"""Money facts: open amounts per invoice after payments, disputes, balances, days past due.

A mixin of `arrears.engine.facts.compute.Facts`: it relies on the event helpers defined there.
"""
from __future__ import annotations

from functools import cached_property

import numpy as np

from arrears.engine.domain.batch import EVENT_CODES as E
from arrears.engine.domain.batch import NO_INVOICE
from arrears.engine.domain.clock import FAR, NEVER

_KEY = np.int64(1) << 35                     # account * _KEY + seconds orders (account, time)


class MoneyFacts:
    """Balances and lateness, derived from invoices and payment/dispute events."""

    @cached_property
    def _payments(self):
        # Credit notes and write-offs reduce what is owed exactly like payments do.
        mask = self._mask(E["payment"], E["credit_note"], E["write_off"])
        return mask, np.flatnonzero(mask)

    @cached_property
    def _paid_index(self):
        """Sorted (account, time) keys of payments and their running total."""
        rows = np.flatnonzero(self._mask(E["payment"]))
        keys = self.b.ev_acct[rows].astype(np.int64) * _KEY + self.b.ev_at[rows]
        return keys, np.cumsum(self.b.ev_amount[rows])

    def paid_between(self, acct, t0, t1) -> np.ndarray:
        """Amount paid by each `acct` in the time interval (t0, t1]."""
        keys, running = self._paid_index
        if keys.size == 0:
            return np.zeros(len(acct), dtype=np.int64)
        base = np.asarray(acct, dtype=np.int64) * _KEY

        def upto(t):
            i = np.searchsorted(keys, base + np.clip(t, 0, _KEY - 1), side="right") - 1
            return np.where(i >= 0, running[np.maximum(i, 0)], 0)
        return upto(t1) - upto(t0)

    @cached_property
    def invoice_disputed(self) -> np.ndarray:
        """Per invoice: an unresolved dispute covers it (its own or an account-wide one)."""
        b = self.b
        opened, resolved = self._mask(E["dispute_opened"]), self._mask(E["dispute_resolved"])
        k = len(b.inv_acct)
        inv_open = np.full(k, NEVER)
        inv_res = np.full(k, NEVER)
        own_o, own_r = opened & (b.ev_inv >= 0), resolved & (b.ev_inv >= 0)
        np.maximum.at(inv_open, b.ev_inv[own_o], b.ev_at[own_o])
        np.maximum.at(inv_res, b.ev_inv[own_r], b.ev_at[own_r])
        acct_res = self.last_at(resolved & (b.ev_inv == NO_INVOICE))
        acct_wide = self.last_at(opened & (b.ev_inv == NO_INVOICE)) > acct_res
        # An account-wide resolution settles every dispute opened before it.
        return (inv_open > np.maximum(inv_res, acct_res[b.inv_acct])) | acct_wide[b.inv_acct]

    @cached_property
    def invoice_open(self) -> np.ndarray:
        """Open amount per invoice after payments: own ones first, the rest oldest first.

        Unallocated money pays undisputed invoices before disputed ones.
        """
        b = self.b
        mask, _ = self._payments
        direct = mask & (b.ev_inv >= 0)
        paid = np.zeros(len(b.inv_acct), dtype=np.int64)
        np.add.at(paid, b.ev_inv[direct], b.ev_amount[direct])
        open0 = b.inv_amount - paid
        pool = self.total(mask & (b.ev_inv < 0), b.ev_amount)
        np.add.at(pool, b.inv_acct, np.maximum(-open0, 0))   # overpayment of an invoice
        open0 = np.maximum(open0, 0)
        disputed = self.invoice_disputed
        und = np.where(disputed, 0, open0)
        open_und, left = _fifo(b.inv_acct, und, pool, self.n)
        open_dis, _ = _fifo(b.inv_acct, open0 - und, left, self.n)
        return open_und + open_dis

    def _sum_inv(self, values) -> np.ndarray:
        out = np.zeros(self.n, dtype=np.int64)
        np.add.at(out, self.b.inv_acct, values)
        return out

    @cached_property
    def invoice_order(self) -> tuple[np.ndarray, np.ndarray]:
        """Invoice rows grouped by account, and where each account's group starts (n + 1 bounds).

        Built once per batch and only when asked for (by a message's invoice lines), so
        listing one account's invoices never scans the whole batch.
        """
        order = np.argsort(self.b.inv_acct, kind="stable")
        return order, np.searchsorted(self.b.inv_acct[order], np.arange(self.n + 1))

    def invoice_rows(self, row: int) -> np.ndarray:
        """The batch's invoice rows of account `row`, in the account's own order."""
        order, bounds = self.invoice_order
        return order[bounds[row]:bounds[row + 1]]

    @cached_property
    def total_balance(self) -> np.ndarray:
        return self._sum_inv(self.invoice_open)

    @cached_property
    def disputed_amount(self) -> np.ndarray:
        return self._sum_inv(np.where(self.invoice_disputed, self.invoice_open, 0))

    @cached_property
    def balance(self) -> np.ndarray:
        """Collectible balance: disputed amounts excluded when disputes pause per invoice."""
        if self.p.pauses.dispute_scope == "account":
            return self.total_balance
        return self.total_balance - self.disputed_amount

    @cached_property
    def oldest_due(self) -> np.ndarray:
        """Oldest due day of an open undisputed invoice (of any open one if all disputed)."""
        b = self.b
        open_ = self.invoice_open > 0
        und = open_ & ~self.invoice_disputed
        out = np.full(self.n, FAR)
        np.minimum.at(out, b.inv_acct[und], b.inv_due[und])
        anyd = np.full(self.n, FAR)
        np.minimum.at(anyd, b.inv_acct[open_], b.inv_due[open_])
        return np.where(out == FAR, anyd, out)

    @cached_property
    def owes(self) -> np.ndarray:
        """There is a collectible balance."""
        return self.balance > 0

    @cached_property
    def days_past_due(self) -> np.ndarray:
        """Days past the oldest unpaid due date (0 where nothing is open)."""
        return np.where(self.oldest_due == FAR, 0, self.today - self.oldest_due)

    @cached_property
    def overdue_mask(self) -> np.ndarray:
        """Per invoice: open, undisputed and past its due date."""
        b = self.b
        return (self.invoice_open > 0) & ~self.invoice_disputed & (b.inv_due < self.today[b.inv_acct])

    @cached_property
    def overdue_balance(self) -> np.ndarray:
        return self._sum_inv(np.where(self.overdue_mask, self.invoice_open, 0))

    @cached_property
    def open_invoices(self) -> np.ndarray:
        return self._sum_inv((self.invoice_open > 0).astype(np.int64))

    @cached_property
    def overdue_invoices(self) -> np.ndarray:
        return self._sum_inv(self.overdue_mask.astype(np.int64))


def take(values: np.ndarray, rows: np.ndarray, fill) -> np.ndarray:
    """values[rows] where rows >= 0, else `fill` (safe when `values` is empty)."""
    if values.size == 0:
        return np.full(rows.shape, fill, dtype=np.int64)
    return np.where(rows >= 0, values[np.maximum(rows, 0)], fill)


def _fifo(acct: np.ndarray, amounts: np.ndarray, pool: np.ndarray, n: int):
    """Apply each account's `pool` to its `amounts` in row order; return (open, pool left)."""
    cum = np.cumsum(amounts)
    start = np.zeros(n, dtype=np.int64)
    if acct.size:
        first = np.r_[True, acct[1:] != acct[:-1]]
        start[acct[first]] = (cum - amounts)[first]
    within = cum - start[acct]
    open_ = np.clip(within - pool[acct], 0, amounts)
    total = np.zeros(n, dtype=np.int64)
    np.add.at(total, acct, amounts)
    return open_, np.maximum(pool - total, 0)
