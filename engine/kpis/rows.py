"""One report `Row`: a group's summed figures in one currency, its KPIs, aging and roll rates.

The KPIs are the catalogue's (engine/kpis/catalogue.py), computed by its formulas; the
aging and the roll rates come straight from the summed per-account figures
(engine/kpis/measures.py).
"""
from __future__ import annotations

from fractions import Fraction

from arrears.engine.domain.model import CHANNEL_KINDS
from arrears.engine.kpis import catalogue
from arrears.engine.kpis.formulas import Inputs, ratio
from arrears.engine.kpis.measures import BASE
from arrears.engine.kpis.report import Row


def figures_of(sums, contact_sums, cols: dict, kinds) -> dict:
    """Named figures: the account figures from `sums` (a summed matrix row), the contact
    figures from `contact_sums`, on the channel kinds `kinds` only."""
    out = {name: int(sums[cols[name]]) for name in BASE}
    out["attempts"] = sum(int(contact_sums[cols[f"attempts:{k}"]]) for k in kinds)
    out["right_party_contacts"] = sum(int(contact_sums[cols[f"conversations:{k}"]]) for k in kinds)
    out["outcomes_reported"] = sum(int(contact_sums[cols[f"told:{k}"]]) for k in kinds)
    return out


def row(group: str, currency: str, f: dict, attempts: dict, sums, cols: dict, *, buckets, days: int,
        months: Fraction, costs, with_fixed: bool) -> Row:
    """The Row of one group in one currency from its figures `f` (see `figures_of`)."""
    cost = None
    if costs is not None and costs.covers(currency):
        cost = costs.variable(currency, attempts) + (costs.fixed(currency, months) if with_fixed else 0)
    kpis = catalogue.compute(Inputs(figures=f, days=days, months=months, cost=cost, currency=currency))
    aging = tuple((name, int(sums[cols[f"aging_balance:{b}"]]), int(sums[cols[f"aging_count:{b}"]]))
                  for b, name in enumerate(buckets))
    rolls = tuple((buckets[k], buckets[k + 1],
                   ratio(sums[cols[f"roll_to_balance:{k}"]], sums[cols[f"roll_from_balance:{k}"]], "percent",
                         f"no balance in bucket {buckets[k]} at the start of the period"),
                   ratio(sums[cols[f"roll_to_count:{k}"]], sums[cols[f"roll_from_count:{k}"]], "percent",
                         f"no account in bucket {buckets[k]} at the start of the period"))
                  for k in range(len(buckets) - 1))
    return Row(group=group, currency=currency, figures=f, costs=cost, aging=aging, kpis=kpis, roll_rates=rolls)


def attempts_by_kind(sums, cols: dict, kinds) -> dict:
    """{channel kind name: attempts} over the kind codes `kinds`."""
    return {CHANNEL_KINDS[k]: int(sums[cols[f"attempts:{k}"]]) for k in kinds}
