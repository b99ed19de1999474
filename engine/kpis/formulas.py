"""The KPI formulas (docs/kpis.md, /COMPLIANCE "KPI definitions"), over one group's summed figures.

Everything is exact (`Fraction` over integer minor units) until a value is shown. A
zero denominator gives a null value with the reason, never an error or an infinity.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from arrears.engine.domain.model import CHANNEL_KINDS
from arrears.engine.domain.money import exponent
from arrears.engine.kpis.measures import BASE
from arrears.engine.kpis.report import Kpi, Row

NO_SALES = "no credit sales in the period"


def ratio(num, den, unit: str, reason: str, scale=100) -> Kpi:
    """`num / den * scale` in `unit`, or null with `reason` when `den` is zero."""
    num, den = _exact(num), _exact(den)
    if den == 0:
        return Kpi(None, unit, reason)
    return Kpi(num * scale / den, unit)


def _exact(x) -> Fraction:
    """A Fraction of an int, numpy integer or Fraction (numpy integers are not Rational)."""
    return Fraction(int(x)) if isinstance(x, np.integer) else Fraction(x)


def figures_of(sums, contact_sums, cols: dict, kinds) -> dict:
    """Named figures: the account figures from `sums` (a summed matrix row), the contact
    figures from `contact_sums`, on the channel kinds `kinds` only."""
    out = {name: int(sums[cols[name]]) for name in BASE}
    out["attempts"] = sum(int(contact_sums[cols[f"attempts:{k}"]]) for k in kinds)
    out["right_party_contacts"] = sum(int(contact_sums[cols[f"conversations:{k}"]]) for k in kinds)
    return out


def row(group: str, currency: str, f: dict, attempts: dict, sums, cols: dict, *, buckets, days: int,
        months: Fraction, costs, with_fixed: bool) -> Row:
    """The Row of one group in one currency from its figures `f` (see measures.BASE)."""
    opening, sales, closing, current = (f["opening_receivables"], f["credit_sales"],
                                        f["closing_receivables"], f["closing_current"])
    cost = None
    if costs is not None and costs.covers(currency):
        cost = costs.variable(currency, attempts) + (costs.fixed(currency, months) if with_fixed else 0)
    dso = ratio(closing * days, sales, "days", NO_SALES, 1)
    best = ratio(current * days, sales, "days", NO_SALES, 1)
    kpis = {
        "collection_rate": ratio(f["collected"], opening + sales, "percent",
                                 "nothing was outstanding: no opening receivables and no credit sales"),
        "recovery_rate": ratio(f["recovered"], f["opening_past_due"], "percent",
                               "no past-due balance at the start of the period"),
        "dso": dso,
        "best_possible_dso": best,
        "average_days_delinquent": dso if dso.value is None else Kpi(dso.value - best.value, "days"),
        "cei": _cei(opening, sales, closing, current, months),
        "cure_rate": ratio(f["cured"], f["delinquent_at_start"], "percent",
                           "no delinquent accounts at the start of the period"),
        "promise_kept_rate": ratio(f["promises_kept"], f["promises_due"], "percent",
                                   "no promise to pay fell due in the period"),
        "right_party_contact_rate": ratio(f["right_party_contacts"], f["attempts"], "percent",
                                          "no contact attempts in the period"),
        "bad_debt_ratio": ratio(f["written_off"], sales, "percent", NO_SALES),
        "cost_to_collect": _cost_to_collect(cost, f["collected"], currency),
    }
    aging = tuple((name, int(sums[cols[f"aging_balance:{b}"]]), int(sums[cols[f"aging_count:{b}"]]))
                  for b, name in enumerate(buckets))
    rolls = tuple((buckets[k], buckets[k + 1],
                   ratio(sums[cols[f"roll_to_balance:{k}"]], sums[cols[f"roll_from_balance:{k}"]], "percent",
                         f"no balance in bucket {buckets[k]} at the start of the period"),
                   ratio(sums[cols[f"roll_to_count:{k}"]], sums[cols[f"roll_from_count:{k}"]], "percent",
                         f"no account in bucket {buckets[k]} at the start of the period"))
                  for k in range(len(buckets) - 1))
    return Row(group=group, currency=currency, figures=f, costs=cost, aging=aging, kpis=kpis, roll_rates=rolls)


def _cei(opening: int, sales: int, closing: int, current: int, months: Fraction) -> Kpi:
    monthly = Fraction(sales) / months
    return ratio(opening + monthly - closing, opening + monthly - current, "percent",
                 "opening receivables + credit sales / months - closing current receivables is zero")


def _cost_to_collect(cost: Fraction | None, collected: int, currency: str) -> Kpi:
    if cost is None:
        return Kpi(None, "ratio", f"no collection costs are configured for {currency}")
    # Costs are in major units, collections in minor ones.
    return ratio(cost * 10 ** exponent(currency), collected, "ratio", "nothing was collected in the period", 1)


def attempts_by_kind(sums, cols: dict, kinds) -> dict:
    """{channel kind name: attempts} over the kind codes `kinds`."""
    return {CHANNEL_KINDS[k]: int(sums[cols[f"attempts:{k}"]]) for k in kinds}
