"""Offers and fees for the independent oracle (docs/policy-guide.md, "Incentives and fees").

`offer_fee_violations()` checks a decision's offers and fees against the policy document,
computed in plain Python from the account's history (tests/oracle_state.py):

- no offer at all to an excluded account: some amount disputed, bankrupt, deceased, ceased,
  represented, in breathing space (in force under every reading of the history);
- a settlement pays at most the balance and at least max(floor_percent x balance,
  min(floor, balance)), and pay + discount = balance;
- an early-payment discount only from `window_days` before the oldest unpaid due date to
  the end of the day `days_after_due` after it (local), i.e. days past due in
  [-window_days, days_after_due];
- late fee and interest are zero while fees are frozen: breathing space, hardship where an
  applicable profile's hardship rule freezes fees, a plan in good standing with
  `plan_interest_freeze` (each in force under every reading);
- and at most what the moratoria leave (docs/compliance.md, breathing space): no late fee
  for an invoice whose first overdue day fell inside any breathing space or crisis
  moratorium, and no interest for any of their days, even after they ended (upper bounds:
  the fixed fee of every other overdue invoice; simple interest on each overdue invoice's
  open amount for its days outside every moratorium).

Approximations (the side that asks less): percentages may round either way by one minor
unit; the balance and the due date are taken under every reading of same-instant ties, and
a violation is claimed only when it is one under all of them.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from tests.oracle import applicable_rules
from tests.oracle_liveness import READINGS
from tests.oracle_state import latest_plan, minor, money, moratorium_spans, round_half_up, state

EXCLUDING = ("stop.bankruptcy", "stop.deceased", "stop.cease_communication", "stop.represented",
             "stop.breathing_space")


def _all(readings) -> bool:
    return all(readings)


def excluded(account, events, now, policy_doc) -> list[str]:
    """Why no offer may be made (true under every reading)."""
    out = [rule for rule in EXCLUDING
           if _all(state(rule, account, events, now, policy_doc, t).in_force for t in READINGS)]
    if _all(money(account, events, policy_doc, now, t).disputed_amount > 0 for t in READINGS):
        out.append("dispute")
    return out


def frozen(account, events, now, policy_doc) -> list[str]:
    """Why fees are frozen (true under every reading)."""
    out = []
    if _all(state("stop.breathing_space", account, events, now, policy_doc, t).in_force for t in READINGS):
        out.append("breathing space")
    if (any(r.get("freeze_fees") for r in applicable_rules(account, policy_doc, "hardship_pause"))
            and _all(state("pause.hardship", account, events, now, policy_doc, t).in_force
                     for t in READINGS)):
        out.append("hardship forbearance")
    if ((policy_doc.get("incentives") or {}).get("plan_interest_freeze") or {}).get("enabled"):
        plans = [latest_plan(account, events, now, policy_doc, t) for t in READINGS]
        if all(p is not None and p.active and p.good for p in plans):
            out.append("payment plan in good standing")
    return out


def _settlement(offer, m, conf, currency) -> list[str]:
    bal = m.balance
    unit = minor(currency)
    floor = max(Decimal(str(conf.get("floor_percent", 0))) * bal / 100,
                min(Decimal(str(conf.get("floor", "0"))), bal))
    pay, discount = offer.amount.amount, offer.discount.amount
    out = []
    if pay > bal:
        out.append(f"settlement: pay {pay} above the balance {bal}")
    if pay < floor - unit:
        out.append(f"settlement: pay {pay} below its floor {floor} (balance {bal})")
    if pay + discount != bal:
        out.append(f"settlement: pay {pay} + discount {discount} is not the balance {bal}")
    return out


def _early(offer, m, conf) -> list[str]:
    window, after = int(conf.get("window_days", 10)), int(conf.get("days_after_due", 0))
    if m.oldest_due is None or not -window <= m.dpd <= after:
        return [f"early-payment discount at {m.dpd} days past due (window {-window}..{after}, due "
                f"{m.oldest_due})"]
    return []


def offer_fee_violations(account, events, now: datetime, decision, policy_doc: dict) -> list[str]:
    events = [e for e in events if e.at <= now]
    out = []
    offers = tuple(getattr(decision, "offers", ()) or ())
    if offers:
        why = excluded(account, events, now, policy_doc)
        if why:
            out.append(f"offer to an excluded account ({', '.join(why)}): "
                       + ", ".join(o.kind for o in offers))
    inc = policy_doc.get("incentives") or {}
    for o in offers:
        claims = []
        for ties in READINGS:
            m = money(account, events, policy_doc, now, ties)
            if o.kind == "settlement":
                claims.append(_settlement(o, m, inc.get("settlement") or {}, account.currency))
            elif o.kind == "early_payment_discount":
                claims.append(_early(o, m, inc.get("early_payment_discount") or {}))
        if claims and all(claims):
            out += claims[0]
    fees = getattr(decision, "fees", None)
    if fees is not None:
        why = frozen(account, events, now, policy_doc)
        if why and (fees.late_fee.amount != 0 or fees.interest.amount != 0):
            out.append(f"fees while frozen ({', '.join(why)}): late fee {fees.late_fee.amount}, "
                       f"interest {fees.interest.amount}")
        claims = [_fee_bounds(account, events, now, policy_doc, fees, ties) for ties in READINGS]
        if all(claims):
            out += claims[0]
    return out


def _tier_fee(amount: Decimal, tiers: list) -> Decimal:
    for tier in tiers:
        if tier.get("below") is None or amount < Decimal(str(tier["below"])):
            return Decimal(str(tier["amount"]))
    return Decimal(0)


def _fee_bounds(account, events, now, policy_doc, fees, ties: bool) -> list[str]:
    """Late fee and interest above what the moratoria leave, under one reading."""
    conf = policy_doc.get("fees") or {}
    m = money(account, events, policy_doc, now, ties)
    spans = moratorium_spans(account, events, now, policy_doc, ties)
    overdue = [inv for inv in account.invoices
               if m.open[inv.id] > 0 and inv.id not in m.disputed and inv.due_date < m.today]
    unit = minor(account.currency)
    out = []
    late = conf.get("late_fee") or {}
    if late.get("fixed_by_amount") and late.get("flat") is None and late.get("percent") is None:
        bound = sum((_tier_fee(Decimal(inv.amount), late["fixed_by_amount"]) for inv in overdue
                     if not any(f <= inv.due_date + timedelta(days=1) <= last for f, last in spans)),
                    Decimal(0))
        if fees.late_fee.amount > bound + unit * len(overdue):
            out.append(f"late fee {fees.late_fee.amount} above {bound}, the fixed fees of the overdue "
                       f"invoices that did not fall overdue in a moratorium {spans}")
    interest = conf.get("interest")
    if interest:
        rate = (Decimal(str(interest.get("reference_rate_percent", 0)))
                + Decimal(str(interest.get("margin_percent", 0)))) / 100
        basis = int(interest.get("basis_days", 365))
        bound = Decimal(0)
        for inv in overdue:
            lo = inv.due_date + timedelta(days=1)
            days = (m.today - inv.due_date).days - sum(
                max(0, (min(m.today, last) - max(lo, f)).days + 1) for f, last in spans)
            bound += round_half_up(m.open[inv.id] * rate * days / basis, account.currency)
        if fees.interest.amount > bound + unit * len(overdue):
            out.append(f"interest {fees.interest.amount} above {bound}, simple interest for the days outside "
                       f"every moratorium {spans}")
    return out
