"""compute_kpis and kpi_series: from a `Ledger` to KPI reports, per group and currency.

    report = compute_kpis(ledger, start_day, end_day, group_by="bucket", policy=policy, costs=costs)
    series = kpi_series(ledger, month_ends(start_day, end_day), policy=policy)

Days are epoch days or `datetime.date`s; a period includes both its first and last day.
Pure: no store, no clock. Positions (balances, buckets) are computed once per boundary
day, so a series of m periods costs m + 1 evaluations of the portfolio.
"""
from __future__ import annotations

import calendar
from datetime import date
from fractions import Fraction
from functools import lru_cache
from itertools import pairwise

import numpy as np

from arrears.engine.domain.batch import day_to_date, epoch_day
from arrears.engine.domain.errors import InputError
from arrears.engine.kpis import rows
from arrears.engine.kpis.groups import ALL_KINDS, Group, check_group_by, groups
from arrears.engine.kpis.ledger import Ledger
from arrears.engine.kpis.measures import Period, contact_attempts, measure
from arrears.engine.kpis.positions import money_batch, positions
from arrears.engine.kpis.report import KpiReport, KpiSeries


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


def months_between(start: int, end: int) -> Fraction:
    """Calendar months in `start..end`: each month counts the share of its days in the period."""
    total = Fraction(0)
    day = start
    while day <= end:
        d = day_to_date(day)
        length = calendar.monthrange(d.year, d.month)[1]
        last = day + (length - d.day)            # last day of this month
        total += Fraction(min(last, end) - day + 1, length)
        day = last + 1
    return total


class _Context:
    """One ledger under one policy and cost model; positions cached by day."""

    def __init__(self, ledger: Ledger, policy, costs):
        self.ledger = ledger
        self.policy = policy if policy is not None else default_policy()
        self.costs = costs
        self.batch = money_batch(ledger)
        self.attempts = contact_attempts(ledger)
        codes, self.currencies = _currency_codes(ledger)
        self.by_currency = [codes == i for i in range(len(self.currencies))]
        self._positions: dict = {}

    def positions(self, day: int):
        if day not in self._positions:
            self._positions[day] = positions(self.batch, self.policy, day)
        return self._positions[day]

    def report(self, start: int, end: int, group_by) -> KpiReport:
        if start > end:
            raise InputError(f"the period starts ({day_to_date(start)}) after it ends ({day_to_date(end)})",
                             "from")
        check_group_by(group_by, self.ledger)
        period = measure(self.ledger, self.policy, start, end, self.positions(start - 1),
                         self.positions(end), self.attempts)
        months = months_between(start, end)
        everyone = np.ones(self.ledger.n, dtype=bool)
        total = self._rows(period, [Group("all", everyone, everyone, ALL_KINDS)], months, True)
        grouped = total if group_by is None else \
            self._rows(period, groups(self.ledger, period, self.policy, group_by), months, False)
        p = self.policy
        return KpiReport(start=start, end=end, months=months, group_by=group_by,
                         policy={"name": p.name, "version": p.version, "digest": p.digest},
                         buckets=tuple(p.bucket_names), groups=tuple(grouped), total=tuple(total))

    def _rows(self, period: Period, groups_: list, months: Fraction, with_fixed: bool) -> list:
        """One Row per group and currency that has accounts or contact attempts."""
        out = []
        m, cols = period.matrix, period.cols
        for group in groups_:
            for currency, in_cur in zip(self.currencies, self.by_currency):
                sums = m[group.rows & in_cur].sum(axis=0)
                contact = m[group.contact_rows & in_cur].sum(axis=0)
                f = rows.figures_of(sums, contact, cols, group.kinds)
                if f["accounts"] == 0 and f["attempts"] == 0:
                    continue
                out.append(rows.row(
                    group.name, currency, f, rows.attempts_by_kind(contact, cols, group.kinds), sums, cols,
                    buckets=self.policy.bucket_names, days=period.end - period.start + 1, months=months,
                    costs=self.costs, with_fixed=with_fixed))
        return out


def _currency_codes(ledger: Ledger):
    if ledger.n == 0:
        return np.zeros(0, dtype=np.int64), []
    names, codes = np.unique(ledger.currency.astype(str), return_inverse=True)
    return codes.reshape(-1), names.tolist()


def compute_kpis(ledger: Ledger, start_day, end_day, *, group_by: str | None = None, policy=None,
                 costs=None) -> KpiReport:
    """The KPIs of `start_day..end_day` (both included) for the portfolio in `ledger`.

    `group_by`: None, "segment", "bucket", "channel", "stage" or a ledger label;
    `policy`: a CompiledPolicy (aging buckets, promise tolerance; default the shipped one);
    `costs`: a CostModel (default none). Raises InputError for a bad period or group_by.
    """
    start, end = as_day(start_day, "from"), as_day(end_day, "to")
    return _Context(ledger, policy, costs).report(start, end, group_by)


def kpi_series(ledger: Ledger, days, *, group_by: str | None = None, policy=None, costs=None) -> KpiSeries:
    """Reports of the periods between consecutive `days`: `days[i-1] + 1 .. days[i]`.

    `days` must be increasing (e.g. `month_ends(start, end)`); m days give m - 1 reports.
    """
    points = [as_day(d, f"days[{i}]") for i, d in enumerate(days)]
    if len(points) < 2 or any(b <= a for a, b in pairwise(points)):
        raise InputError("expected at least two increasing days (period boundaries)", "days")
    ctx = _Context(ledger, policy, costs)
    return KpiSeries(tuple(ctx.report(a + 1, b, group_by) for a, b in pairwise(points)))


def account_figures(ledger: Ledger, start_day, end_day, *, policy=None) -> tuple[np.ndarray, dict]:
    """Every account's figures of `start_day..end_day`: the int64 matrix (accounts x figures)
    every KPI of a group sums (`measures.measure`), and {figure name: column}. For tests
    over per-account or per-debtor values (engine/experiments)."""
    start, end = as_day(start_day, "from"), as_day(end_day, "to")
    ctx = _Context(ledger, policy, None)
    period = measure(ctx.ledger, ctx.policy, start, end, ctx.positions(start - 1), ctx.positions(end), ctx.attempts)
    return period.matrix, period.cols


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
