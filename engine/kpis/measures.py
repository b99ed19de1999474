"""Per-account figures of one period: the numerators and denominators every KPI sums up.

`measure` returns one int64 matrix (accounts x figures) so that any group of accounts,
in any currency, is one exact integer `matrix[rows].sum(axis=0)`. Money is in minor
units; the rest are counts. The period is `start..end`, both days included; opening
figures are as of the end of `start - 1`, closing ones as of the end of `end`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arrears.engine.domain.batch import EVENT_CODES as E
from arrears.engine.domain.batch import OUTCOME_CODES
from arrears.engine.domain.model import CHANNEL_KINDS, CONVERSATIONS
from arrears.engine.facts.history import attempt_rows
from arrears.engine.kpis.ledger import Ledger
from arrears.engine.kpis.positions import Positions

BASE = ("accounts", "opening_receivables", "opening_past_due", "closing_receivables", "closing_current",
        "credit_sales", "collected", "credit_notes", "written_off", "recovered", "delinquent_at_start",
        "cured", "promises_due", "promises_kept")
_SHIFT = np.int64(1) << 33      # account * _SHIFT + (day + _OFFSET) orders (account, day)
_OFFSET = np.int64(1) << 31
_CONVERSATION = [OUTCOME_CODES[o] for o in CONVERSATIONS]
# Outcomes that say whether the debtor was reached (a conversation, or why not); `sent` and
# `delivered` do not, so attempts with only those measure no right-party contact rate.
_TOLD = [code for name, code in OUTCOME_CODES.items() if name not in ("queued", "sent", "delivered", "failed")]


def columns(n_buckets: int) -> dict[str, int]:
    """Figure name -> matrix column, for a policy with `n_buckets` aging buckets."""
    names = list(BASE)
    names += [f"aging_balance:{b}" for b in range(n_buckets)] + [f"aging_count:{b}" for b in range(n_buckets)]
    for k in range(n_buckets - 1):
        names += [f"roll_from_balance:{k}", f"roll_to_balance:{k}", f"roll_from_count:{k}", f"roll_to_count:{k}"]
    kinds = range(len(CHANNEL_KINDS))      # built-in kinds, then those plugins registered
    names += [f"attempts:{c}" for c in kinds] + [f"conversations:{c}" for c in kinds]
    names += [f"told:{c}" for c in kinds]
    return {name: i for i, name in enumerate(names)}


@dataclass(frozen=True)
class Period:
    """One period's per-account figures, and what grouping needs to know about each account."""

    start: int
    end: int
    matrix: np.ndarray        # int64 (n, len(cols))
    cols: dict
    opening: Positions
    closing: Positions
    last_kind: np.ndarray     # int64: channel kind code of the last attempt up to `end`, -1 none


def _window(acct, day, values, n: int, lo: int, hi: int) -> np.ndarray:
    """Per account: sum of `values` of the rows whose day is in lo..hi."""
    mask = (day >= lo) & (day <= hi)
    out = np.zeros(n, dtype=np.int64)
    np.add.at(out, acct[mask], values[mask])
    return out


def _count(acct, mask, n: int) -> np.ndarray:
    return np.bincount(acct[mask], minlength=n).astype(np.int64)


def _paid_between(ledger: Ledger, acct: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Payments of each `acct` on days lo..hi (running totals over (account, day) keys)."""
    pay = ledger.payments
    if len(pay) == 0:
        return np.zeros(len(acct), dtype=np.int64)
    keys = pay.acct.astype(np.int64) * _SHIFT + pay.day + _OFFSET
    running = np.cumsum(pay.amount)
    base = acct.astype(np.int64) * _SHIFT + _OFFSET

    def upto(day):
        i = np.searchsorted(keys, base + day, side="right") - 1
        return np.where(i >= 0, running[np.maximum(i, 0)], 0)
    return upto(hi) - upto(lo - 1)


def promise_fates(ledger: Ledger, pauses, start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
    """(due in the period, kept) per promise, by the core's rule: its last day is the promised
    day plus the policy's tolerance, at most `promise_max_days` after it was made; it is kept
    when the payments from the day it was made to its last day cover the amount promised."""
    pr = ledger.promises
    last = np.minimum(pr.until_day.astype(np.int64) + pauses.promise_tolerance_days,
                      pr.made_day.astype(np.int64) + pauses.promise_max_days)
    due = (last >= start) & (last <= end)
    kept = _paid_between(ledger, pr.acct, pr.made_day.astype(np.int64), last) >= pr.amount
    return due, due & kept


def last_attempt_kind(ledger: Ledger, attempts: np.ndarray, end: int) -> np.ndarray:
    """Channel kind of each account's last contact attempt up to `end` (-1 if none)."""
    c = ledger.contacts
    rows = np.flatnonzero(attempts & (c.day <= end))
    out = np.full(ledger.n, -1, dtype=np.int64)
    if rows.size:
        acct = c.acct[rows]
        last = np.r_[acct[1:] != acct[:-1], True]
        out[acct[last]] = c.kind[rows[last]]
    return out


def contact_attempts(ledger: Ledger) -> np.ndarray:
    """Which contact rows are attempts on the debtor (the core's rule, `attempt_rows`)."""
    c = ledger.contacts
    types = np.where(c.reported, E["contact_outcome"], E["contact_attempt"])
    return attempt_rows(types, c.kind, c.outcome)


def measure(ledger: Ledger, policy, start: int, end: int, opening: Positions, closing: Positions,
            attempts: np.ndarray) -> Period:
    """Every account's figures for `start..end` (positions at `start - 1` and `end` given)."""
    n, nb = ledger.n, len(policy.bucket_names)
    cols = columns(nb)
    m = np.zeros((n, len(cols)), dtype=np.int64)

    def put(name, values):
        m[:, cols[name]] = values
    inv = ledger.invoices
    put("accounts", 1)
    put("opening_receivables", opening.balance)
    put("opening_past_due", np.where(opening.delinquent, opening.past_due, 0))
    put("closing_receivables", closing.balance)
    put("closing_current", closing.current)
    put("credit_sales", _window(inv.acct, inv.issued_day, inv.amount, n, start, end))
    collected = _window(ledger.payments.acct, ledger.payments.day, ledger.payments.amount, n, start, end)
    put("collected", collected)
    for name, table in (("credit_notes", ledger.credit_notes), ("written_off", ledger.write_offs)):
        put(name, _window(table.acct, table.day, table.amount, n, start, end))
    # Payments go to the oldest invoices first, so up to the past-due amount they recover it.
    put("recovered", np.where(opening.delinquent, np.minimum(collected, opening.past_due), 0))
    put("delinquent_at_start", opening.delinquent)
    put("cured", opening.delinquent & ~closing.delinquent & (m[:, cols["written_off"]] == 0))
    due, kept = promise_fates(ledger, policy.pauses, start, end)
    put("promises_due", _count(ledger.promises.acct, due, n))
    put("promises_kept", _count(ledger.promises.acct, kept, n))
    for b in range(nb):
        here = closing.bucket == b
        put(f"aging_balance:{b}", np.where(here, closing.balance, 0))
        put(f"aging_count:{b}", here)
    for k in range(nb - 1):
        was, rolled = opening.bucket == k, (opening.bucket == k) & (closing.bucket == k + 1)
        put(f"roll_from_balance:{k}", np.where(was, opening.balance, 0))
        put(f"roll_to_balance:{k}", np.where(rolled, closing.balance, 0))
        put(f"roll_from_count:{k}", was)
        put(f"roll_to_count:{k}", rolled)
    c = ledger.contacts
    in_period = attempts & (c.day >= start) & (c.day <= end) & (c.kind >= 0)
    talk = in_period & np.isin(c.outcome, _CONVERSATION)
    told = in_period & np.isin(c.outcome, _TOLD)
    kinds = sum(1 for name in cols if name.startswith("attempts:"))
    for name, mask in (("attempts", in_period), ("conversations", talk), ("told", told)):
        key = c.acct[mask].astype(np.int64) * kinds + c.kind[mask]
        counts = np.bincount(key, minlength=n * kinds).reshape(n, kinds)
        m[:, cols[f"{name}:0"]:cols[f"{name}:0"] + kinds] = counts
    return Period(start=start, end=end, matrix=m, cols=cols, opening=opening, closing=closing,
                  last_kind=last_attempt_kind(ledger, attempts, end))


def attempts_per_day(ledger: Ledger, attempts: np.ndarray, start: int, end: int,
                     scope: np.ndarray | None = None) -> np.ndarray:
    """Contact attempts (`contact_attempts`) per day of `start..end` and channel kind code:
    int64 (days, kinds registered); only the accounts `scope` (bool, rows) when given."""
    c = ledger.contacts
    kinds = len(CHANNEL_KINDS)
    rows = attempts & (c.day >= start) & (c.day <= end) & (c.kind >= 0)
    if scope is not None:
        rows &= scope[c.acct]
    days = end - start + 1
    key = (c.day[rows].astype(np.int64) - start) * kinds + c.kind[rows]
    return np.bincount(key, minlength=days * kinds).reshape(days, kinds)
