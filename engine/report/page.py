"""The report page for a period from a KPI ledger: the figures, the goals judged on its last
day, the HTML. `arrears report` writes it to a file; the console's dashboard keeps it as a
snapshot computed after the ticks. One composition, so both show the same page.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from arrears.engine.report.data import ReportData, gather
from arrears.engine.report.html import render


@dataclass(frozen=True)
class Page:
    """A rendered report: its HTML, the figures behind it, and the goals report (a dict) or None."""

    html: str
    data: ReportData
    goals: dict | None


def measure_days(goalset, end: date) -> list[int]:
    """The epoch days a ledger must hold the segments of: the period's end, and the days the
    goals are measured on (`arrears.engine.goals.days_to_measure`)."""
    from arrears.engine.domain.batch import epoch_day
    from arrears.engine.goals import days_to_measure
    days = [epoch_day(end)] + ([] if goalset is None else days_to_measure(goalset, end))
    return sorted(set(days))


def report_page(ledger, policy, start: date, end: date, *, goalset=None, costs=None,
                generated: datetime | None = None, experiment: dict | None = None) -> Page:
    """The page for `start..end` from `ledger` (built with `measure_days(goalset, end)`), with
    the goals of `goalset` judged on `end` when given, and an experiment's results
    (`arrears.engine.experiments.results.Results.to_dict()`) when given."""
    from arrears.engine.goals import evaluate_goals
    data = gather(ledger, policy, start, end, costs=costs)
    goals = None if goalset is None else evaluate_goals(goalset, ledger, policy, end, costs=costs).to_dict()
    return Page(render(data, goals, generated=generated, experiment=experiment), data, goals)
