"""Collection episodes: when the account's current run of collection began, and its key.

An *episode* belongs to the account's oldest unpaid due date D (`oldest_due`). It begins at the
latest of:

- local midnight of D + min(0, earliest stage threshold): the pre-due lead of the first stage;
- the instant the invoices due before D were paid off (payments, credit notes and write-offs,
  allocated as `MoneyFacts.invoice_open` does: an invoice's own money first, then the pool oldest
  first), when that is later: the debt that earned the earlier stages is gone, so the next
  invoice starts at the bottom of the ladder rather than inheriting its stage and attempts;
- the opening of the unresolved dispute that took an older invoice out of collection (it stays
  the instant when that invoice is later written off or paid).

Stage progress, attempt numbers and failed channels count only contact attempts made from the
start on. Everything is column-wise: one pass over the paying events, no per-account Python.
"""
from __future__ import annotations

import numpy as np

from arrears.engine.domain.batch import day_to_date
from arrears.engine.domain.clock import FAR, NEVER, from_epoch


def predecessors_cleared_at(facts) -> tuple[np.ndarray, np.ndarray]:
    """(cleared, disputed): per account, the instant the paid invoices due before `oldest_due`
    were covered (NEVER if there are none), and the latest opening of an unresolved dispute on an
    older invoice, whether still open or settled since (NEVER if none).

    Paid off at instant t means: the pool at t (unallocated money plus every invoice's own money
    beyond its amount) covers what those invoices' own money left open. That running amount
    only grows, so the first paying event that reaches the need is the instant.
    """
    b, n = facts.b, facts.n
    oldest = facts.oldest_due
    inv_acct = b.inv_acct
    pred = b.inv_due < oldest[inv_acct]                   # FAR oldest: every invoice, all paid
    # Older invoices out of collection by an unresolved dispute (still open, or written off or
    # paid while disputed) left it when the dispute opened, not when they were later settled.
    open_pred = pred & ((facts.invoice_open > 0) | facts.invoice_disputed)
    paid_pred = pred & ~open_pred
    need = np.zeros(n, dtype=np.int64)
    np.add.at(need, inv_acct[paid_pred], b.inv_amount[paid_pred])

    mask, rows = facts._payments
    amount = b.ev_amount[rows]
    inv = b.ev_inv[rows]
    gain = np.where(inv >= 0, 0, amount)                  # unallocated money goes to the pool
    direct = np.flatnonzero(inv >= 0)
    if direct.size:
        # Each invoice's own money, in time order, split into what pays it (capped at its amount)
        # and what overflows into the pool.
        j = inv[direct]
        order = np.argsort(j, kind="stable")
        js, amt = j[order], amount[direct][order]
        cum = np.cumsum(amt)
        first = np.r_[True, js[1:] != js[:-1]]
        base = np.repeat((cum - amt)[first], np.diff(np.r_[np.flatnonzero(first), js.size]))
        after = cum - base
        before = after - amt
        cap = b.inv_amount[js]
        overflow = np.maximum(after - cap, 0) - np.maximum(before - cap, 0)
        capped = np.minimum(after, cap) - np.minimum(before, cap)
        g = overflow + np.where(paid_pred[js], capped, 0)
        gain[direct[order]] = g
    acct = b.ev_acct[rows]
    cum = np.cumsum(gain)
    start = np.zeros(n, dtype=np.int64)
    if acct.size:
        first = np.r_[True, acct[1:] != acct[:-1]]
        start[acct[first]] = (cum - gain)[first]
    running = cum - start[acct]
    reached = running >= need[acct]
    cleared = np.full(n, FAR)
    np.minimum.at(cleared, acct[reached], b.ev_at[rows][reached])
    # Money allocated in ways this pass does not follow (say, an invoice disputed for a while)
    # can pay them without the running amount reaching the need: take the latest payment then.
    latest = facts.last_at(mask)
    cleared = np.where(cleared == FAR, latest, cleared)
    cleared = np.where(need > 0, cleared, NEVER)

    disputed = np.full(n, NEVER)
    opened = facts.invoice_dispute_opened_at
    np.maximum.at(disputed, inv_acct[open_pred], opened[open_pred])
    return cleared, disputed


def episode_start(facts) -> tuple[np.ndarray, np.ndarray]:
    """(start, natural): the instant the current episode began, and its lead-day start
    (local midnight of the oldest unpaid due date less the pre-due lead); FAR without one."""
    oldest = facts.oldest_due
    has = oldest < FAR
    natural = np.full(facts.n, FAR)
    if has.any():
        lead = min(0, facts.p.first_threshold)
        natural[has] = facts.midnight(oldest[has] + lead, np.flatnonzero(has))
    cleared, disputed = predecessors_cleared_at(facts)
    # A contact at the very instant of the clearing payment belongs to the new episode: a
    # decision made at that instant already saw the payment (the store and the replay include
    # events at `now`), so its contact was about what was still owed.
    later = np.maximum(cleared, disputed)
    return np.where(has, np.maximum(natural, later), FAR), natural


def episode_key(oldest_day: int, start: int, natural: int) -> str:
    """The episode's key (outbox rows and idempotency keys carry it): the oldest unpaid due date
    as an ISO date, followed by `@` and the start instant (ISO 8601 basic, UTC) when the episode
    began later than the lead day, so that an episode of the same due date begun again never
    reuses an earlier one's attempt numbers. '' when nothing is owed."""
    if oldest_day >= FAR:
        return ""
    day = day_to_date(oldest_day).isoformat()
    if start <= natural:
        return day
    return f"{day}@{from_epoch(start).strftime('%Y%m%dT%H%M%SZ')}"
