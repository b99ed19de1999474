"""Holds: the pauses and stop states that keep an account's next step from going out.

Each hold is a rule id, a column saying where it is in force, a column with the
earliest instant the step may go out again (FAR where only a new event can lift it),
and a function that words the reason for one account. Stop states are not policy:
no policy can switch them off. The compliance guardrails add their own rules later
in the chain (arrears.engine.guardrails.evaluate), in the same shape.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from arrears.engine.domain.batch import NO_DAY, day_to_date
from arrears.engine.domain.clock import FAR
from arrears.engine.facts import moratoria
from arrears.engine.facts.compute import Facts


@dataclass
class Hold:
    """One rule holding steps back: where it applies, until when, and why."""

    rule: str
    active: np.ndarray
    until: np.ndarray
    reason: Callable[[int], str]


def _until(facts: Facts, days: np.ndarray) -> np.ndarray:
    """Start of the local day after `days` (FAR where there is no end day)."""
    has = days != NO_DAY
    out = np.full(facts.n, FAR)
    if has.any():
        out[has] = facts.midnight(days[has].astype(np.int64) + 1, np.flatnonzero(has))
    return out


def _day(days, row) -> str:
    return day_to_date(days[row]).isoformat()


BREATHING_SPACE_DAYS = moratoria.STANDARD_DAYS   # Debt Respite Scheme: the standard moratorium


def _moratorium_words(facts: Facts, until: np.ndarray, row: int) -> str:
    """The stop.breathing_space reason: which moratorium, and its last day when known."""
    crisis = facts.moratorium["state"][2][row]
    what = "mental health crisis moratorium" if crisis else "statutory breathing space"
    if until[row] == NO_DAY:        # a crisis moratorium before the treatment's end is known
        when = (f"while the crisis treatment lasts and {moratoria.CRISIS_DAYS_AFTER_TREATMENT} "
                "days after it")
    else:
        when = f"last day {_day(until, row)}"
    return f"{what} ({when}): no contact, interest and fees frozen"


def holds(facts: Facts, policy, exempt: dict | None = None, notes: dict | None = None) -> list[Hold]:
    """Every hold that can apply, in the order the trace reports them.

    `exempt` maps a rule id to accounts a jurisdiction rule lets through (the final
    notices a cease-communication request still allows); `notes` maps a rule id to
    (accounts, words) a jurisdiction rule adds to its reason (`guardrails.evaluate.hold_notes`).
    """
    exempt = exempt or {}
    out = []
    never = np.full(facts.n, FAR)
    st = facts.states
    for rule, key, text in (
            ("stop.deceased", "deceased", "the debtor is deceased: no collection contact"),
            ("stop.bankruptcy", "bankrupt", "the debtor is in bankruptcy: collection is stayed"),
            ("stop.cease_communication", "cease_communication",
             "the debtor asked us to stop communicating"),
            ("stop.represented", "represented",
             "the debtor is represented: contact the representative, not the debtor")):
        active, _ = st[key]
        if key == "represented" and policy.representation is not None:
            # The policy routes the step to the representative (or a review task) instead.
            active = np.zeros(facts.n, dtype=bool)
        if rule in exempt:
            active = active & ~exempt[rule]
        out.append(Hold(rule, active, never, lambda row, t=text: t))
    active, until = st["breathing_space"]
    out.append(Hold("stop.breathing_space", active, _until(facts, until),
                    lambda row, u=until: _moratorium_words(facts, u, row)))
    for rule, key, label in (("pause.hold", "hold", "manual hold"),
                             ("pause.hardship", "hardship", "hardship extension")):
        active, until = st[key]
        out.append(Hold(rule, active, _until(facts, until),
                        lambda row, u=until, lab=label: f"{lab}" + (
                            f" (last day {_day(u, row)})" if u[row] != NO_DAY else "")))
    if policy.pauses.dispute_scope == "account":
        out.append(Hold("pause.dispute", facts.disputed_amount > 0, never,
                        lambda row: "an open dispute pauses collection of the whole account"))
    else:
        out.append(Hold("pause.dispute", (facts.disputed_amount > 0) & (facts.balance == 0), never,
                        lambda row: "every open invoice is disputed: nothing to collect until "
                                    "a dispute is resolved"))
    pr = facts.promises
    last_day = pr["latest_last_day"]
    out.append(Hold("pause.promise_to_pay", pr["open"] & facts.owes, _until(facts, last_day),
                    lambda row: f"promise to pay pending (last day {_day(last_day, row)}: the promised "
                                f"date plus {policy.pauses.promise_tolerance_days} days' tolerance, "
                                f"at most {policy.pauses.promise_max_days} days after the promise)"))
    plan = facts.plan
    check = np.where(plan["check_day"] == FAR, NO_DAY, plan["check_day"] - 1)
    out.append(Hold("pause.payment_plan", plan["good"] & facts.owes, _until(facts, check),
                    lambda row: "payment plan in good standing" + (
                        f"; next instalment checked after {_day(check, row)}"
                        if check[row] != NO_DAY else "")))
    for hold in out:
        for rows, words in (notes or {}).get(hold.rule, ()):
            hold.reason = _noted(hold.reason, rows, words)
    return out


def _noted(reason: Callable[[int], str], rows: np.ndarray, words: Callable[[int], str]):
    """`reason`, followed by `words` for the accounts in `rows`."""
    return lambda row: f"{reason(row)}; {words(row)}" if rows[row] else reason(row)
