"""compute_kpis and kpi_series: from a `Ledger` to KPI reports, per group and currency.

    report = compute_kpis(ledger, start_day, end_day, group_by="bucket", policy=policy, costs=costs)
    series = kpi_series(ledger, month_ends(start_day, end_day), policy=policy)

Days are epoch days or `datetime.date`s; a period includes both its first and last day.
Pure: no store, no clock. Both compute through a `Tally` (engine/kpis/tally.py): positions
(balances, buckets) are computed once per boundary day, so a series of m periods costs
m + 1 evaluations of the portfolio; pass one Tally to `series_of` and `Tally.report` to share
them between reports (the report and the dashboard do).
"""
from __future__ import annotations

import calendar
from datetime import date
from functools import lru_cache
from itertools import pairwise

import numpy as np

from arrears.engine.domain.batch import day_to_date, epoch_day
from arrears.engine.domain.errors import InputError
from arrears.engine.kpis.ledger import Ledger
from arrears.engine.kpis.report import KpiReport, KpiSeries
from arrears.engine.kpis.tally import Tally, months_between  # noqa: F401  (still importable from here)


@lru_cache(maxsize=1)
def default_policy():
    """The shipped policy (policies/default.yaml), compiled once."""
    from arrears.engine.policy.load import load_policy
    from arrears.policies import DEFAULT_POLICY
    return load_policy(DEFAULT_POLICY)


def as_day(value, where: str) -> int:
    """An epoch day from an int or a `date` (InputError otherwise)."""
    if isinstance(value, date):
        return epoch_day(value)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    raise InputError(f"expected a date or an epoch day, got {value!r}", where)


def compute_kpis(ledger: Ledger, start_day, end_day, *, group_by: str | None = None, policy=None,
                 costs=None) -> KpiReport:
    """The KPIs of `start_day..end_day` (both included) for the portfolio in `ledger`.

    `group_by`: None, "segment", "bucket", "channel", "stage", "strategy" or a ledger label;
    `policy`: a CompiledPolicy (aging buckets, promise tolerance; default the shipped one);
    `costs`: a CostModel (default none). Raises InputError for a bad period or group_by.
    """
    start, end = as_day(start_day, "from"), as_day(end_day, "to")
    return Tally(ledger, policy or default_policy(), costs).report(start, end, group_by)


def kpi_series(ledger: Ledger, days, *, group_by: str | None = None, policy=None, costs=None) -> KpiSeries:
    """Reports of the periods between consecutive `days`: `days[i-1] + 1 .. days[i]`.

    `days` must be increasing (e.g. `month_ends(start, end)`); m days give m - 1 reports.
    """
    return series_of(Tally(ledger, policy or default_policy(), costs), days, group_by)


def series_of(tally, days, group_by: str | None = None, within=None) -> KpiSeries:
    """`kpi_series` from a `Tally` (its sums kept for the next time), `days` epoch days."""
    points = [as_day(d, f"days[{i}]") for i, d in enumerate(days)]
    if len(points) < 2 or any(b <= a for a, b in pairwise(points)):
        raise InputError("expected at least two increasing days (period boundaries)", "days")
    return KpiSeries(tuple(tally.report(a + 1, b, group_by, within) for a, b in pairwise(points)))


def account_figures(ledger: Ledger, start_day, end_day, *, policy=None) -> tuple[np.ndarray, dict]:
    """Every account's figures of `start_day..end_day`: the int64 matrix (accounts x figures)
    every KPI of a group sums (`measures.measure`), and {figure name: column}. For tests
    over per-account or per-debtor values (engine/experiments)."""
    start, end = as_day(start_day, "from"), as_day(end_day, "to")
    return Tally(ledger, policy or default_policy()).account_figures(start, end)


PERIOD_MONTHS = {"month": 1, "quarter": 3}


def month_ends(start_day, end_day) -> list[int]:
    """Boundaries of the calendar months from the one holding `start_day` to the one holding
    `end_day`: the day before the first month, then each month's last day (the last one is
    `end_day` itself if that month is not over)."""
    return period_ends(start_day, end_day, "month")


def period_ends(start_day, end_day, by: str = "month") -> list[int]:
    """`month_ends` for calendar months or quarters (`by`: a key of PERIOD_MONTHS): the day
    before the first period holding `start_day`, then each period's last day (`end_day`
    itself if that period is not over)."""
    if by not in PERIOD_MONTHS:
        raise InputError(f"expected one of {', '.join(PERIOD_MONTHS)}, got {by!r}", "by")
    step = PERIOD_MONTHS[by]
    start, end = as_day(start_day, "from"), as_day(end_day, "to")
    d = day_to_date(start)
    first = d.replace(month=(d.month - 1) // step * step + 1, day=1)
    out = [epoch_day(first) - 1]
    while out[-1] < end:
        d = day_to_date(out[-1] + 1)
        length = sum(calendar.monthrange(d.year + (d.month - 1 + k) // 12, (d.month - 1 + k) % 12 + 1)[1]
                     for k in range(step))
        out.append(min(out[-1] + length, end))
    return out
