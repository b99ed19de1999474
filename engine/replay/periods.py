"""KPIs per month or quarter of a replay, and a DSO that a long window cannot make misleading.

DSO over a period is closing receivables ÷ the period's credit sales × its days
(docs/kpis.md): over a year it sets one day's receivables against a year's sales, so a
year-end peak or trough reads as the whole year's. The replay report therefore shows,
beside that end-of-period figure, the average of the DSOs of the period's months (or
quarters, with `--kpis-by quarter`): what a month of it looked like. `--kpis-by` also gives
every KPI of each month or quarter (`kpi_series`, columnar JSON).
"""
from __future__ import annotations

from arrears.engine.domain.batch import epoch_day
from arrears.engine.kpis import kpi_series
from arrears.engine.kpis.compute import PERIOD_MONTHS, period_ends
from arrears.engine.kpis.report import Kpi

KPIS_BY = tuple(PERIOD_MONTHS)          # month, quarter
NO_PERIOD = "no {by} of the period had credit sales"


def series(ledger, run, by: str, costs=None):
    """The `KpiSeries` of `run`'s period cut at calendar `by` ends (the first and last
    periods cut to the replayed days)."""
    days = period_ends(run.start, run.end, by)
    days[0] = epoch_day(run.start) - 1
    return kpi_series(ledger, days, policy=run.policy, costs=costs)


def dso_summary(whole, periods, by: str) -> list[dict]:
    """Per currency: the whole period's DSO (`end_of_period`) and the mean of its `by`
    periods' DSOs (`period_average`), with how many periods there were and measured one."""
    averages = {cur: (mean, n) for group, cur, mean, n in periods.average("dso")}
    count = len(periods.reports)
    out = []
    for row in whole.total:
        mean, measured = averages.get(row.currency, (None, 0))
        average = Kpi(mean, "days", None if mean is not None else NO_PERIOD.format(by=by))
        out.append({"currency": row.currency, "end_of_period": row.kpis["dso"].to_dict(),
                    "period_average": average.to_dict(), "by": by, "periods": count,
                    "periods_measured": measured})
    return out
