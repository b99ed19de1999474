"""The KPI formulas (docs/kpis.md, /COMPLIANCE "KPI definitions"), over one group's summed figures.

Each formula takes the `Inputs` of one group in one currency and returns the exact value
(a `Fraction`) or, when it cannot be computed (a zero denominator), the reason as a
string. The KPI catalogue (engine/kpis/catalogue.py) names each formula and gives it its
unit, so a formula says only how the value is worked out. Everything is exact until a
value is shown; never an error or an infinity.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from arrears.engine.domain.money import exponent
from arrears.engine.kpis.report import Kpi

NO_SALES = "no credit sales in the period"


@dataclass(frozen=True)
class Inputs:
    """What a formula reads: one group's figures in one currency, and the period."""

    figures: dict             # name -> int: measures.BASE, attempts, right_party_contacts
    days: int                 # D, days in the period
    months: Fraction          # N, months in the period (docs/kpis.md)
    cost: Fraction | None     # collection costs in major units; None: no costs configured
    currency: str


def quotient(num, den, reason: str, scale=100) -> Fraction | str:
    """`num / den * scale`, or `reason` when `den` is zero."""
    num, den = _exact(num), _exact(den)
    return reason if den == 0 else num * scale / den


def ratio(num, den, unit: str, reason: str, scale=100) -> Kpi:
    """`quotient` as a `Kpi` in `unit` (roll rates, which are not catalogue KPIs)."""
    value = quotient(num, den, reason, scale)
    return Kpi(None, unit, value) if isinstance(value, str) else Kpi(value, unit)


def _exact(x) -> Fraction:
    """A Fraction of an int, numpy integer or Fraction (numpy integers are not Rational)."""
    return Fraction(int(x)) if isinstance(x, np.integer) else Fraction(x)


def collection_rate(x: Inputs):
    """Collected ÷ (opening receivables + credit sales) × 100."""
    f = x.figures
    return quotient(f["collected"], f["opening_receivables"] + f["credit_sales"],
                    "nothing was outstanding: no opening receivables and no credit sales")


def recovery_rate(x: Inputs):
    """Recovered ÷ opening past due × 100."""
    f = x.figures
    return quotient(f["recovered"], f["opening_past_due"], "no past-due balance at the start of the period")


def dso(x: Inputs):
    """Closing receivables ÷ credit sales × D."""
    f = x.figures
    return quotient(f["closing_receivables"] * x.days, f["credit_sales"], NO_SALES, 1)


def best_possible_dso(x: Inputs):
    """Closing current receivables ÷ credit sales × D."""
    f = x.figures
    return quotient(f["closing_current"] * x.days, f["credit_sales"], NO_SALES, 1)


def average_days_delinquent(x: Inputs):
    """DSO − best-possible DSO."""
    total, best = dso(x), best_possible_dso(x)
    return total if isinstance(total, str) else total - best


def past_due_rate(x: Inputs):
    """(Closing receivables − closing current) ÷ closing receivables × 100."""
    f = x.figures
    return quotient(f["closing_receivables"] - f["closing_current"], f["closing_receivables"],
                    "no receivables at the end of the period")


def cei(x: Inputs):
    """(Opening + sales ÷ N − closing) ÷ (opening + sales ÷ N − closing current) × 100."""
    f = x.figures
    opening, monthly = f["opening_receivables"], Fraction(f["credit_sales"]) / x.months
    return quotient(opening + monthly - f["closing_receivables"], opening + monthly - f["closing_current"],
                    "opening receivables + credit sales / months - closing current receivables is zero")


def cure_rate(x: Inputs):
    """Cured ÷ delinquent at the start × 100."""
    f = x.figures
    return quotient(f["cured"], f["delinquent_at_start"], "no delinquent accounts at the start of the period")


def promise_kept_rate(x: Inputs):
    """Promises kept ÷ promises due × 100."""
    f = x.figures
    return quotient(f["promises_kept"], f["promises_due"], "no promise to pay fell due in the period")


def right_party_contact_rate(x: Inputs):
    """Right-party contacts ÷ attempts × 100; not measured when no attempt's outcome said
    whether the debtor was reached (only `sent` or `delivered`: a replay, an e-mail run)."""
    f = x.figures
    if f["attempts"] and not f["outcomes_reported"]:
        return ("no attempt's outcome says whether the debtor was reached (only sent or delivered "
                "were reported)")
    return quotient(f["right_party_contacts"], f["attempts"], "no contact attempts in the period")


def bad_debt_ratio(x: Inputs):
    """Written off ÷ credit sales × 100."""
    f = x.figures
    return quotient(f["written_off"], f["credit_sales"], NO_SALES)


def cost_to_collect(x: Inputs):
    """Collection costs ÷ collected (costs in major units, collections in minor ones)."""
    if x.cost is None:
        return f"no collection costs are configured for {x.currency}"
    return quotient(x.cost * 10 ** exponent(x.currency), x.figures["collected"],
                    "nothing was collected in the period", 1)
