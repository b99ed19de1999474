"""Every goal of a file judged on one day: `evaluate_goals(goalset, ledger, policy, at)`.

    goalset = load_goals("policies/goals.yaml", buckets=policy.bucket_names, segments=policy.segments)
    ledger = ledger_from_store(store, policy, segment_days=days_to_measure(goalset, at))
    report = evaluate_goals(goalset, ledger, policy, at)
    report.to_dict()                       # what `arrears goals --format json` and GET /v1/goals return

Only days up to `at` are measured: a baseline, milestone or target date still to
come has no measured level yet. Values leave as decimal strings rounded for their
unit (money to the currency's minor unit, days and percent to 2 places, ratios to 4).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from arrears.engine.domain.batch import epoch_day
from arrears.engine.domain.money import exponent
from arrears.engine.goals import progress
from arrears.engine.goals.measure import COUNT, MONEY, Measured, Meter
from arrears.engine.goals.spec import Goal, GoalSet
from arrears.engine.kpis.report import PLACES, decimal_of


def days_to_measure(goalset: GoalSet, at: date) -> list[int]:
    """Epoch days on which some goal is measured on `at` (for the ledger's segment snapshots)."""
    days = {at}
    for goal in goalset.goals:
        days |= {d for d in (goal.baseline_day, goal.target.day, *(m.day for m in goal.milestones)) if d <= at}
    return sorted(epoch_day(d) for d in days)


def shown(value: Fraction | None, unit: str | None, currency: str | None) -> str | None:
    """A level as a decimal string rounded for its unit (None stays None)."""
    if value is None:
        return None
    if unit == MONEY and currency:
        return str(decimal_of(value, Decimal(1).scaleb(-exponent(currency))))
    if unit == COUNT and value.denominator == 1:
        return str(value.numerator)
    return str(decimal_of(value, PLACES.get(unit, Decimal("0.01"))))


@dataclass(frozen=True)
class GoalStatus:
    """One goal judged on one day, with every figure the judgement used."""

    goal: Goal
    at: date
    currency: str | None
    unit: str | None
    baseline: Fraction | None
    target: Fraction | None
    current: Measured
    final: Measured | None            # the level on the target date, once it has come
    judgement: progress.Judgement
    milestones: tuple                 # (Point, level or None, Measured or None, status)
    reason: str | None

    def level(self, value: Fraction | None) -> str | None:
        """`value` shown in this goal's unit."""
        return shown(value, self.unit, self.currency)

    def to_dict(self) -> dict:
        """JSON form (docs/goals-and-report.md)."""
        g, j = self.goal, self.judgement
        pct = None if j.progress is None else str(decimal_of(j.progress * 100, Decimal("0.1")))
        return {
            "id": g.id, "title": g.title, "metric": g.metric.to_dict(),
            "scope": {"currency": g.currency, "segment": g.segment}, "currency": self.currency,
            "unit": self.unit, "direction": g.direction,
            "window_days": None if g.metric.kind == "aging" else g.window_days,
            "tolerance_percent": format(Decimal(g.tolerance_percent.numerator) / g.tolerance_percent.denominator, "f"),
            "status": j.status, "reason": self.reason,
            "baseline": {"date": g.baseline_day.isoformat(), "value": self.level(self.baseline),
                         "stated": g.baseline_value is not None},
            "target": {"date": g.target.day.isoformat(), "value": self.level(self.target),
                       "change_percent": _pct(g.target.change_percent)},
            "current": {"date": self.at.isoformat(), "value": self.level(self.current.value)},
            "expected": self.level(j.expected) if j.status not in (progress.ACHIEVED, progress.MISSED) else None,
            "final": None if self.final is None else {"date": g.target.day.isoformat(),
                                                      "value": self.level(self.final.value)},
            "gap": self.level(j.gap), "band": self.level(j.band), "progress_percent": pct,
            "milestones": [{"date": p.day.isoformat(), "value": self.level(level),
                            "change_percent": _pct(p.change_percent),
                            "measured": None if m is None else self.level(m.value), "status": status}
                           for p, level, m, status in self.milestones],
        }


def _pct(value: Fraction | None) -> str | None:
    return None if value is None else format(decimal_of(value, Decimal("0.01")).normalize(), "f")


@dataclass(frozen=True)
class GoalsReport:
    """All goals of one file judged on one day."""

    at: date
    source: str
    policy: dict                      # name, version, digest
    goals: tuple[GoalStatus, ...]

    def to_dict(self) -> dict:
        """`{"at", "source", "policy", "counts": {status: n}, "goals": [...]}`."""
        counts = {s: 0 for s in progress.STATUSES}
        for g in self.goals:
            counts[g.judgement.status] += 1
        return {"at": self.at.isoformat(), "source": self.source, "policy": dict(self.policy),
                "counts": counts, "goals": [g.to_dict() for g in self.goals]}


def evaluate_goal(goal: Goal, meter: Meter, at: date) -> GoalStatus:
    """One goal judged on `at`."""
    currency, _ = meter.currency(goal)
    current = meter.measure(goal, at)
    measured = [("current", at, current)]
    baseline = goal.baseline_value
    if baseline is None and goal.baseline_day <= at:
        measured.append(("baseline", goal.baseline_day, meter.measure(goal, goal.baseline_day)))
        baseline = measured[-1][2].value
    target = goal.target.value if baseline is None else goal.target.level(baseline)
    final = meter.measure(goal, goal.target.day) if goal.target.day <= at else None
    stones = []
    for m in goal.milestones:
        level = m.value if baseline is None else m.level(baseline)
        got = meter.measure(goal, m.day) if m.day <= at else None
        if got is None:
            status = progress.PENDING
        elif level is None:
            status = progress.NO_DATA
        else:
            status = progress.milestone_status(level, got.value, m.day, at, goal.direction)
        stones.append((m, level, got, status))
    if at < goal.baseline_day:
        judgement = progress.Judgement(progress.NOT_STARTED)
    elif baseline is None:
        judgement = progress.Judgement(progress.NO_DATA)
    else:
        plan = [(goal.baseline_day, baseline), *((m.day, lv) for m, lv, _, _ in stones),
                (goal.target.day, target)]
        judgement = progress.judge(direction=goal.direction, plan=plan, day=at, current=current.value,
                                   final=None if final is None else final.value,
                                   tolerance_percent=goal.tolerance_percent)
    if final is not None:
        measured.insert(0, ("target date", goal.target.day, final))
    # Why a level is missing: the level the judgement needed first, else any other one.
    reason = next((f"{what} {day}: {m.reason}" for what, day, m in measured if m.value is None and m.reason), None)
    unit = next((m.unit for _, _, m in measured if m.unit is not None), None)
    return GoalStatus(goal=goal, at=at, currency=currency, unit=unit, baseline=baseline, target=target,
                      current=current, final=final, judgement=judgement, milestones=tuple(stones), reason=reason)


def evaluate_goals(goalset: GoalSet, ledger, policy, at: date, *, costs=None, tally=None) -> GoalsReport:
    """Every goal of `goalset` judged on `at` against the portfolio in `ledger` (measured with
    `tally`, a `Tally` of it, when given)."""
    meter = Meter(ledger, policy, costs, tally)
    statuses = tuple(evaluate_goal(goal, meter, at) for goal in goalset.goals)
    return GoalsReport(at=at, source=goalset.path,
                       policy={"name": policy.name, "version": policy.version, "digest": policy.digest},
                       goals=statuses)
