"""Incentives (prompt-payment discount, settlement, plan freeze, loyalty) and fees.

The prompt-payment discount (`early_payment_discount`) is offered from `window_days` before
the oldest unpaid due date until `days_after_due` after it, and expires at the end of that day.

All money arithmetic is on exact integer minor units; percentages are applied in
basis points and rounded half up. Offers are never made to accounts that are
disputed, bankrupt, deceased, ceased or in breathing space.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from arrears.engine.domain.batch import day_to_date
from arrears.engine.domain.clock import FAR
from arrears.engine.domain.money import from_minor
from arrears.engine.facts import moratoria
from arrears.engine.facts.compute import Facts


@dataclass
class OfferColumns:
    """Per-account offer and fee columns (0 / False / FAR where not applicable)."""

    early: np.ndarray            # bool
    early_amount: np.ndarray     # discount value, minor units
    early_expires: np.ndarray    # instant
    settle: np.ndarray           # bool
    settle_amount: np.ndarray    # amount accepted in settlement
    settle_discount: np.ndarray  # value given up
    settle_approval: np.ndarray  # bool: needs approval
    settle_expires: np.ndarray
    loyal: np.ndarray            # bool: loyalty treatment
    frozen: np.ndarray           # bool: interest and fees frozen
    frozen_why: np.ndarray       # object: why, or None
    late_fee: np.ndarray         # minor units
    interest: np.ndarray         # minor units
    excluded: np.ndarray         # bool: no offers at all (dispute/stop state)
    # Why a settlement needs approval: per account, a bitmask of the approval rules it trips;
    # figure -> (its bit, per-account threshold in minor units, -1 where the account's currency has none)
    approval_why: np.ndarray | None = None
    approval_limits: dict | None = None


def _bp(percent: Decimal) -> int:
    return int((percent * 100).to_integral_value())


def _pct(minor: np.ndarray, percent: Decimal) -> np.ndarray:
    """`percent` of `minor`, rounded half up (amounts are non-negative).

    An account's total can exceed what int64 can multiply by a basis-point rate; those
    rare rows are computed with Python integers instead of overflowing.
    """
    bp = _bp(percent)
    minor = np.asarray(minor, dtype=np.int64)
    if minor.size and int(np.abs(minor).max()) > (2 ** 62) // max(bp, 1):
        return np.array([(int(m) * bp + 5000) // 10000 for m in minor], dtype=np.int64)
    return (minor * bp + 5000) // 10000


def _minor(amount: Decimal, scale: np.ndarray) -> np.ndarray:
    """A policy amount in each account's minor units (rounded half up).

    Converted once per distinct scale: a batch mixing, say, JPY and EUR accounts must not
    pay a Decimal operation per account.
    """
    uniq, inverse = np.unique(np.asarray(scale, dtype=np.int64), return_inverse=True)
    values = np.array([int((amount * int(s)).to_integral_value("ROUND_HALF_UP")) for s in uniq.tolist()],
                      dtype=np.int64)
    return values[inverse.reshape(-1)]


def _midnight_where(facts, rows: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Local midnight starting `days` for the accounts in `rows` (a mask), FAR for the others:
    only those accounts are converted."""
    out = np.full(facts.n, FAR)
    at = np.flatnonzero(rows)
    if at.size:
        out[at] = facts.midnight(days[at], at)
    return out


def compute(facts: Facts, policy, freeze: np.ndarray | None = None) -> OfferColumns:
    """Offers and fees for every account in the batch; `freeze` adds accounts whose fees
    a jurisdiction profile freezes."""
    n, inc = facts.n, policy.incentives
    st = facts.states
    excluded = ((facts.disputed_amount > 0) | st["bankrupt"][0] | st["deceased"][0]
                | st["cease_communication"][0] | st["breathing_space"][0] | st["represented"][0])
    base = facts.owes & ~excluded
    dpd, bal, scale = facts.days_past_due, facts.balance, facts.b.scale
    zeros, never, no = np.zeros(n, np.int64), np.full(n, FAR), np.zeros(n, bool)
    early, early_amt, early_exp = no, zeros, never
    if inc.early:
        # From `window_days` before the oldest unpaid due date until `days_after_due` after it.
        after = inc.early["days_after_due"]
        early = base & (dpd >= -inc.early["window_days"]) & (dpd <= after) & inc.early["when"].evaluate(facts)
        early_amt = np.where(early, _pct(bal, inc.early["percent"]), 0)
        early_exp = _midnight_where(facts, early, facts.oldest_due + after + 1)
        early &= early_amt > 0
    settle, s_amt, s_disc, s_appr, s_exp = no, zeros, zeros, no, never
    why, limits = zeros, {}
    if inc.settlement:
        cfg = inc.settlement
        settle = base & (dpd >= cfg["min_days_past_due"]) & cfg["when"].evaluate(facts)
        offered = bal - _pct(bal, cfg["discount_percent"])
        floor = np.maximum(_pct(bal, cfg["floor_percent"]), np.minimum(_minor(cfg["floor"], scale), bal))
        s_amt = np.where(settle, np.maximum(offered, floor), 0)
        s_disc = np.where(settle, bal - s_amt, 0)
        settle &= s_disc > 0
        why, limits = _approval(facts, cfg["approval"], settle, {"balance": bal, "amount": s_amt,
                                                                 "discount": s_disc})
        s_appr = why != 0
        # Offers run in fixed windows from the day the account qualified, so an
        # offer's expiry does not slide forward with every evaluation.
        anchor = facts.oldest_due + cfg["min_days_past_due"]
        w = cfg["valid_days"]
        end_day = anchor + w * ((facts.today - anchor) // w + 1)
        s_exp = _midnight_where(facts, settle, end_day)
    loyal = no
    if inc.loyalty:
        loyal = facts.owes & facts.segment_mask(inc.loyalty["segment"])
    frozen_why = np.full(n, None, dtype=object)
    frozen_why[st["breathing_space"][0]] = "breathing space freezes interest and fees"
    frozen = st["breathing_space"][0].copy()
    if freeze is not None:
        extra = freeze & ~frozen
        frozen_why[extra] = "hardship forbearance freezes interest and fees"
        frozen |= extra
    if inc.plan_freeze:
        plan_ok = facts.plan["good"] & ~frozen
        frozen_why[plan_ok] = "payment plan in good standing: interest and fees frozen"
        frozen |= plan_ok
    late_fee, interest = _fees(facts, policy, loyal, frozen)
    if policy.fees.late_fee or policy.fees.interest:
        _note_moratoria(facts, frozen, frozen_why)
    return OfferColumns(early=early, early_amount=early_amt, early_expires=early_exp, settle=settle,
                        settle_amount=s_amt, settle_discount=s_disc, settle_approval=s_appr,
                        settle_expires=s_exp, approval_why=why, approval_limits=limits, loyal=loyal,
                        frozen=frozen, frozen_why=frozen_why,
                        late_fee=late_fee, interest=interest, excluded=excluded)


def _approval(facts: Facts, rules: tuple, settle: np.ndarray, figures: dict) -> tuple[np.ndarray, dict]:
    """(per account, a bitmask of the approval rules whose figure is above its threshold — or that
    have no threshold for the account's currency; figure -> per-account threshold, minor units,
    -1 where none). Only the accounts with an offer are looked at: a few, however large the batch."""
    why = np.zeros(facts.n, np.int64)
    rows = np.flatnonzero(settle)
    limits = {}
    if not rows.size:
        return why, limits
    currency, scale = facts.b.currency[rows], facts.b.scale[rows]
    for bit, (figure, per, other) in enumerate(rules):
        limit = np.full(rows.size, -1, np.int64) if other is None else _minor(other, scale)
        for cur, amount in per.items():
            sel = currency == cur
            if sel.any():
                limit[sel] = _minor(amount, scale[sel])
        over = (limit < 0) | (figures[figure][rows] > limit)
        why[rows] |= np.where(over, 1 << bit, 0)
        full = np.full(facts.n, -1, np.int64)
        full[rows] = limit
        limits[figure] = (1 << bit, full)
    return why, limits


def settlement_approval(db, row: int) -> tuple[str, ...]:
    """Why account `row` of decided batch `db` needs approval for its settlement, one phrase per
    rule it trips: "balance 12000.00 GBP is above 10000.00 GBP", or "no balance threshold for
    JPY" (empty when it needs none)."""
    o, cur = db.offers, db.facts.b.currency[row]
    figures = {"balance": db.facts.balance[row], "amount": o.settle_amount[row],
               "discount": o.settle_discount[row]}
    out = []
    for figure, (bit, limit) in (o.approval_limits or {}).items():
        if not int(o.approval_why[row]) & bit:
            continue
        name = "amount paid" if figure == "amount" else figure
        if limit[row] < 0:
            out.append(f"no {name} threshold for {cur}")
        else:
            out.append(f"{name} {from_minor(int(figures[figure]), cur)} {cur} is above "
                       f"{from_minor(int(limit[row]), cur)} {cur}")
    return tuple(out)


def _fees(facts: Facts, policy, loyal, frozen):
    n, fees = facts.n, policy.fees
    late_fee, interest = np.zeros(n, np.int64), np.zeros(n, np.int64)
    overdue = facts.overdue_mask
    b = facts.b
    if fees.late_fee:
        cfg = fees.late_fee
        # An invoice that fell overdue inside a moratorium never earns a late fee, not even
        # after the moratorium ended: only the others count (their fee arose outside it).
        ok = facts.owes & (facts.days_past_due > 0) & cfg["when"].evaluate(facts) & ~frozen
        gone = overdue & _fell_due_in_moratorium(facts)
        if gone.any():
            overdue = overdue & ~gone
            only_those = ((np.bincount(b.inv_acct[gone], minlength=n) > 0)
                          & (np.bincount(b.inv_acct[overdue], minlength=n) == 0))
            ok &= ~only_those
        if policy.incentives.loyalty and policy.incentives.loyalty["waive_late_fee"]:
            ok &= ~loyal
        if cfg["tiers"]:
            inv_scale = b.scale[b.inv_acct]
            fee = np.zeros(len(b.inv_acct), np.int64)
            unset = np.ones(len(b.inv_acct), bool)
            for below, amount in cfg["tiers"]:
                hit = unset if below is None else unset & (b.inv_amount < _minor(below, inv_scale))
                fee = np.where(hit, _minor(amount, inv_scale), fee)
                unset &= ~hit
            per_inv = np.where(overdue & ok[b.inv_acct], fee, 0)
            np.add.at(late_fee, b.inv_acct, per_inv)
        if cfg["flat"] is not None:
            late_fee += np.where(ok, _minor(cfg["flat"], b.scale), 0)
        if cfg["percent"] is not None:
            base = np.zeros(n, np.int64)
            np.add.at(base, b.inv_acct, np.where(overdue, facts.invoice_open, 0))
            late_fee += np.where(ok, _pct(base, cfg["percent"]), 0)
    if fees.interest:
        cfg = fees.interest
        overdue = facts.overdue_mask
        ok = facts.owes & cfg["when"].evaluate(facts) & ~frozen
        rows = np.flatnonzero(overdue & ok[b.inv_acct])
        if rows.size:
            acct = b.inv_acct[rows]
            due = b.inv_due[rows].astype(np.int64)
            days = facts.today[acct] - due
            # Days inside any moratorium never earn interest, even after it ended.
            if facts.moratorium["starts"]["rows"].size:
                days = days - moratoria.days_inside(facts.moratorium_spans, acct, due + 1, facts.today[acct])
            rate = _bp(cfg["rate_percent"] * 100)       # hundredths of a basis point
            den = cfg["basis_days"] * 1_000_000
            # Python integers: open * rate * days can exceed 64 bits.
            num = facts.invoice_open[rows].astype(object) * rate * days.astype(object)
            per_inv = np.array([(2 * x + den) // (2 * den) for x in num], dtype=np.int64)
            np.add.at(interest, b.inv_acct[rows], per_inv)
    return late_fee, interest


def _note_moratoria(facts: Facts, frozen: np.ndarray, notes: np.ndarray) -> None:
    """Say on the fees of an account that is not frozen which moratorium days its fees
    leave out (a few accounts: a loop over them costs nothing)."""
    if facts.moratorium["starts"]["rows"].size == 0:
        return
    spans = facts.moratorium_spans
    days: dict[int, list[str]] = {}
    for acct, first, last in zip(spans["acct"].tolist(), spans["first"].tolist(), spans["last"].tolist()):
        if not frozen[acct]:
            days.setdefault(acct, []).append(f"{day_to_date(first)} to {day_to_date(last)}")
    for acct, periods in days.items():
        notes[acct] = ("no interest and no late fee for the days of a breathing space or crisis moratorium: "
                       + ", ".join(periods))


def _fell_due_in_moratorium(facts: Facts) -> np.ndarray:
    """Per invoice: its first overdue day (the day after its due date) was inside a moratorium."""
    b = facts.b
    if facts.moratorium["starts"]["rows"].size == 0:
        return np.zeros(len(b.inv_acct), bool)
    return moratoria.inside(facts.moratorium_spans, b.inv_acct, b.inv_due.astype(np.int64) + 1)
