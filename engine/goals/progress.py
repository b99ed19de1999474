"""Where a goal stands: the planned line, the expected value on a day, and the status.

Pure and exact (Fractions): the caller measures, this module judges. The statuses
(docs/goals-and-report.md):

| status | when |
|---|---|
| not-started | the day is before the baseline date |
| on-track | between the baseline and target dates, current at or better than expected |
| at-risk | behind the expected value by no more than the tolerance band |
| off-track | behind it by more than the band |
| achieved | on or after the target date, the level on the target date is at or better than the target |
| missed | on or after the target date, the level on the target date is worse than the target |
| no-data | a level needed for the judgement cannot be measured (no accounts in scope, a KPI with a zero denominator …) |

"Better" follows the goal's direction: lower for `down`, higher for `up`. The
expected value is on the straight line from the baseline level to the first
milestone, from milestone to milestone, then to the target. The band is
`tolerance_percent` of the planned change |target − baseline|; when the plan is to
hold a level (no change), of the target level itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from itertools import pairwise

NOT_STARTED, ON_TRACK, AT_RISK, OFF_TRACK = "not-started", "on-track", "at-risk", "off-track"
ACHIEVED, MISSED, NO_DATA = "achieved", "missed", "no-data"
STATUSES = (NOT_STARTED, ON_TRACK, AT_RISK, OFF_TRACK, ACHIEVED, MISSED, NO_DATA)
MET, PENDING = "met", "pending"             # milestones: met, missed, pending or no-data
MILESTONE_STATUSES = (MET, MISSED, PENDING, NO_DATA)


def sign(direction: str) -> int:
    """+1 when up is better, -1 when down is better."""
    if direction not in ("up", "down"):
        raise ValueError(f"direction must be 'up' or 'down', got {direction!r}")
    return 1 if direction == "up" else -1


def at_or_better(value: Fraction, target: Fraction, direction: str) -> bool:
    """Whether `value` meets `target` (<= for down, >= for up)."""
    return sign(direction) * (value - target) >= 0


def expected(plan: list[tuple[date, Fraction]], day: date) -> Fraction:
    """The level on `day` on the straight lines through `plan` ((date, level), dates increasing).

    Before the first point it is the first level; after the last, the last level.
    """
    if day <= plan[0][0]:
        return plan[0][1]
    for (d0, v0), (d1, v1) in pairwise(plan):
        if day <= d1:
            return v0 + (v1 - v0) * Fraction((day - d0).days, (d1 - d0).days)
    return plan[-1][1]


def band(baseline: Fraction, target: Fraction, tolerance_percent: Fraction) -> Fraction:
    """Width of the at-risk band: tolerance% of the planned change (of the target when none)."""
    planned = abs(target - baseline)
    return tolerance_percent / 100 * (planned if planned else abs(target))


@dataclass(frozen=True)
class Judgement:
    """A goal's status on a day, with the figures it was judged on."""

    status: str
    expected: Fraction | None = None      # on the plan line (between baseline and target dates)
    gap: Fraction | None = None           # current - expected, signed so that > 0 is ahead of plan
    band: Fraction | None = None
    progress: Fraction | None = None      # share of the planned change achieved so far (1 = done)


def judge(*, direction: str, plan: list[tuple[date, Fraction]], day: date, current: Fraction | None,
          final: Fraction | None, tolerance_percent: Fraction) -> Judgement:
    """The status on `day` of a goal planned as `plan` (baseline first, target last).

    `current` is the level measured on `day`; `final` the level on the target date
    (needed only once that date has come). None means it could not be measured.
    """
    (start, baseline), (deadline, target) = plan[0], plan[-1]
    width = band(baseline, target, tolerance_percent)
    if day < start:
        return Judgement(NOT_STARTED, band=width)
    reached = final if day >= deadline else current
    progress = None
    if reached is not None and target != baseline:
        progress = (reached - baseline) / (target - baseline)
    if day >= deadline:
        if final is None:
            return Judgement(NO_DATA, band=width)
        status = ACHIEVED if at_or_better(final, target, direction) else MISSED
        return Judgement(status, expected=target, gap=sign(direction) * (final - target), band=width,
                         progress=progress)
    line = expected(plan, day)
    if current is None:
        return Judgement(NO_DATA, expected=line, band=width)
    gap = sign(direction) * (current - line)
    status = ON_TRACK if gap >= 0 else AT_RISK if -gap <= width else OFF_TRACK
    return Judgement(status, expected=line, gap=gap, band=width, progress=progress)


def milestone_status(level: Fraction, value: Fraction | None, milestone_day: date, day: date,
                     direction: str) -> str:
    """A milestone's status on `day`: pending until its date, then met or missed (no-data if
    its level could not be measured on its date)."""
    if day < milestone_day:
        return PENDING
    if value is None:
        return NO_DATA
    return MET if at_or_better(value, level, direction) else MISSED
