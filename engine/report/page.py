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
                generated: datetime | None = None, tally=None, segment: str | None = None,
                capacity=None, experiment: dict | None = None) -> Page:
    """The page for `start..end` from `ledger` (built with `measure_days(goalset, end)`), with
    the goals of `goalset` judged on `end` when given. `tally`: a `Tally` of the ledger to
    measure with (its sums kept for the next page or refresh); `segment`: the page of one
    policy segment (its accounts at the end of `end`, and only the goals scoped to it);
    `capacity`: an `arrears.engine.simulate.Capacity` drawn against the contacts per day;
    `experiment`: an experiment's results (`arrears.engine.experiments.results.Results.to_dict()`)."""
    from arrears.engine.goals import evaluate_goals
    from arrears.engine.kpis import Tally
    tally = tally if tally is not None else Tally(ledger, policy, costs)
    data = gather(tally.ledger, policy, start, end, costs=costs, tally=tally, segment=segment, capacity=capacity)
    goals = None
    if goalset is not None:
        goals = evaluate_goals(goalset, tally.ledger, policy, end, costs=costs, tally=tally).to_dict()
        if segment is not None:
            goals = scoped(goals, segment)
    return Page(render(data, goals, generated=generated, experiment=experiment), data, goals)


def scoped(goals: dict, segment: str) -> dict:
    """A goals report (`GoalsReport.to_dict()`) with only the goals scoped to `segment`."""
    kept = [g for g in goals["goals"] if g["scope"]["segment"] == segment]
    counts = {status: sum(g["status"] == status for g in kept) for status in goals["counts"]}
    return {**goals, "goals": kept, "counts": counts}
