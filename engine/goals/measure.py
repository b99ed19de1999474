"""A goal's metric on a day, read from the KPI core's reports (no KPI formula lives here).

Aging balances and counts are the closing aging of the one-day period ending on the
day (`compute_kpis(ledger, day, day)`); KPIs and roll rates are those of the
`window_days` ending on the day. A segment scope reads the report grouped by segment
(membership as of the day: the ledger must hold a segment snapshot for it, see
`arrears.engine.goals.evaluate.days_to_measure`); a goal is always measured in one currency.
Reports are cached per period and grouping, so goals sharing dates cost one report.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from arrears.engine.domain.money import exponent
from arrears.engine.domain.batch import epoch_day
from arrears.engine.kpis import Tally

MONEY, COUNT = "money", "count"


@dataclass(frozen=True)
class Measured:
    """A level (None with a reason when it cannot be measured) and its unit."""

    value: Fraction | None
    unit: str | None                  # money, count, percent, days, ratio (None: unknown)
    reason: str | None = None


class Meter:
    """Measures goals on one ledger under one policy (and cost model, for cost to collect)."""

    def __init__(self, ledger, policy, costs=None, tally=None):
        self.ledger, self.policy, self.costs = ledger, policy, costs
        self.tally = tally if tally is not None else Tally(ledger, policy, costs)
        self.currencies = self.tally.currencies()
        self._reports: dict = {}

    def report(self, start: date, end: date, group_by: str | None):
        """compute_kpis for `start..end`, cached (from the meter's `Tally`)."""
        key = (start, end, group_by)
        if key not in self._reports:
            self._reports[key] = self.tally.report(epoch_day(start), epoch_day(end), group_by)
        return self._reports[key]

    def currency(self, goal) -> tuple[str | None, str | None]:
        """(the currency the goal is measured in, None) or (None, why there is none)."""
        if goal.currency is not None:
            if goal.currency in self.currencies:
                return goal.currency, None
            return None, f"the portfolio has no accounts in {goal.currency}"
        if len(self.currencies) == 1:
            return self.currencies[0], None
        if not self.currencies:
            return None, "the portfolio has no accounts"
        return None, (f"the portfolio holds several currencies ({', '.join(self.currencies)}): set "
                      "scope.currency (amounts of different currencies are never added)")

    def unknown_name(self, goal) -> str | None:
        """Why the goal cannot be measured under this policy (a bucket or segment it lacks), else None."""
        p = self.policy
        missing = [b for b in goal.metric.buckets if b not in p.bucket_names]
        if missing:
            return (f"the policy {p.name} {p.version} has no aging bucket {missing[0]!r} "
                    f"(its buckets: {', '.join(p.bucket_names)})")
        if goal.metric.kind == "roll" and goal.metric.buckets[0] == p.bucket_names[-1]:
            return f"{goal.metric.buckets[0]!r} is the policy's last aging bucket: nothing rolls out of it"
        if goal.segment is not None and goal.segment not in p.segments:
            return f"the policy {p.name} {p.version} has no segment {goal.segment!r}"
        return None

    def measure(self, goal, day: date) -> Measured:
        """The goal's metric on `day` (as of the end of that day)."""
        metric = goal.metric
        unit = {"aging": MONEY if metric.measure == "balance" else COUNT, "roll": "percent"}.get(metric.kind)
        problem = self.unknown_name(goal)
        currency, why = self.currency(goal)
        if problem or why:
            return Measured(None, unit, problem or why)
        start = day if metric.kind == "aging" else day - timedelta(days=goal.window_days - 1)
        group_by = None if goal.segment is None else "segment"
        report = self.report(start, day, group_by)
        rows = report.total if group_by is None else [r for r in report.groups if r.group == goal.segment]
        row = next((r for r in rows if r.currency == currency), None)
        if metric.kind == "aging":
            if row is None:       # no account in scope owes anything
                return Measured(Fraction(0), unit)
            picked = [(balance, count) for name, balance, count in row.aging if name in metric.buckets]
            if metric.measure == "count":
                return Measured(Fraction(sum(c for _, c in picked)), unit)
            return Measured(Fraction(sum(b for b, _ in picked), 10 ** exponent(currency)), unit)
        if row is None:
            scope = f"segment {goal.segment}, " if goal.segment else ""
            return Measured(None, unit, f"no accounts in scope ({scope}{currency}) on {day}")
        if metric.kind == "roll":
            roll = next(r for r in row.roll_rates if r[0] == metric.buckets[0])
            kpi = roll[2] if metric.measure == "balance" else roll[3]
        else:
            kpi = row.kpis[metric.kpi]
        return Measured(kpi.value, kpi.unit, kpi.reason)
