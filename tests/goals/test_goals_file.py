"""Loading goal files: every problem at once, each as file:line:col: message."""
from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest

from arrears.engine.domain.errors import PolicyError
from arrears.engine.goals import DEFAULT_GOALS, load_goals
from arrears.engine.kpis.catalogue import NAMES as KPI_NAMES
from tests.goals.goalkit import goals_file


def problems(path, **names) -> list[str]:
    with pytest.raises(PolicyError) as info:
        load_goals(path, **names)
    return [str(p).replace(str(path), "F") for p in info.value.problems]


def test_the_shipped_goals_load_against_the_shipped_policy(policy):
    goalset = load_goals(DEFAULT_GOALS, buckets=policy.bucket_names, segments=tuple(policy.segments))
    assert [g.id for g in goalset.goals] == ["ninety-plus-down-20", "dso-45", "promises-kept-70",
                                             "business-61-plus-accounts", "roll-61-90-down"]
    first = goalset.goals[0]
    assert (first.currency, first.metric.buckets, first.target.change_percent) == ("GBP", ("90+",), -20)
    assert [m.day for m in first.milestones] == [date(2026, 10, 31), date(2026, 11, 30)]
    assert goalset.goals[2].window_days == 30 and goalset.goals[1].window_days == 90
    assert goalset.goals[3].tolerance_percent == 20 and goalset.goals[1].tolerance_percent == 10


def test_schema_problems_are_all_reported_with_line_and_column(tmp_path):
    path = goals_file(tmp_path, """
        goals:
          - id: Bad Id
            metric: dso
            baseline: "2026-13-01"
            target: {by: 2026-03-31, value: "45"}
            colour: red
          - id: two
            metric: {bucket: "90+", measure: amount}
            baseline: 2026-01-01
    """)
    assert problems(path) == [
        "F:2:9: 'Bad Id': use lower-case letters, digits, '-' and '_'",
        "F:4:15: '2026-13-01' is not a valid date",
        "F:5:37: expected a number, got '45'",
        "F:6:5: unknown key 'colour'",
        "F:7:5: missing required key 'target'",
        "F:8:38: 'amount' is not allowed; expected one of: balance, count; did you mean 'count'?",
    ]


def test_semantic_problems_are_all_reported_with_line_and_column(tmp_path):
    path = goals_file(tmp_path, """
        goals:
          - id: one
            metric: dos
            baseline: 2026-01-01
            target: {by: 2025-12-31, value: 45}
          - id: one
            metric: {bucket: "90 +"}
            scope: {segment: bussiness}
            baseline: 2026-01-01
            target: {by: 2026-03-31, value: 10, change_percent: -5}
            milestones:
              - {by: 2026-03-01, change_percent: -5}
              - {by: 2026-02-01, change_percent: -2}
          - id: three
            metric: {roll_from: "90+", bucket: "61-90"}
            baseline: 2026-01-01
            target: {by: 2026-03-31}
          - id: four
            metric: {roll_from: "90+"}
            baseline: 2026-01-01
            target: {by: 2026-03-31, value: 5}
    """)
    buckets = ("current", "1-30", "31-60", "61-90", "90+")
    assert problems(path, buckets=buckets, segments=("consumer", "business")) == [
        (f"F:3:13: unknown KPI 'dos'; did you mean 'dso'?; known: {', '.join(KPI_NAMES)} "
         "(or {bucket: NAME} for an aging balance)"),
        "F:5:18: the target date 2025-12-31 must be after the baseline date 2026-01-01",
        "F:6:9: duplicate goal id 'one' (first used on line 2)",
        ("F:7:22: unknown aging bucket '90 +'; did you mean '90+'? (the policy's buckets: current, 1-30, 31-60, "
        "61-90, 90+)"),
        "F:8:22: unknown segment 'bussiness'; did you mean 'business'? (the policy's segments: consumer, business)",
        ("F:10:13: give exactly one of `value` (the level to reach) and `change_percent` (the change from the "
        "baseline level); found value and change_percent"),
        ("F:13:14: milestone dates must be after the baseline (2026-01-01), before the target (2026-03-31) and in "
        "order; 2026-02-01 is not"),
        ("F:15:13: a metric mapping needs exactly one of `bucket` (aging balance or count) and `roll_from` "
        "(roll rate); found bucket and roll_from"),
        ("F:17:13: give exactly one of `value` (the level to reach) and `change_percent` (the change from the "
        "baseline level); found neither"),
        "F:19:25: '90+' is the last aging bucket: nothing rolls out of it",
    ]


def test_names_are_not_checked_without_a_policy(tmp_path):
    path = goals_file(tmp_path, """
        goals:
          - id: custom
            metric: {bucket: "over-120"}
            scope: {segment: whales}
            baseline: {date: 2026-01-01, value: 0.7}
            target: {by: 2026-03-31, value: 0}
    """)
    goal, = load_goals(path).goals
    assert goal.metric.buckets == ("over-120",) and goal.segment == "whales"
    assert goal.baseline_value == Fraction(7, 10)        # 0.7 as written, not the float's binary value


@pytest.mark.parametrize("body, expected", [
    ("", "F:1:1: the file is empty; expected a mapping such as 'metadata: ...'"),
    ("goals: [\n", "F:2:1: YAML syntax error:"),
    ("goals: []\n", "F:1:8: must not be empty"),
    ("goals:\n  - {id: a, metric: dso, baseline: 2026-02-30}\n",        # unquoted: YAML reads it as a date
     "F:2:36: '2026-02-30' is not a valid date or time: day is out of range for month"),
])
def test_unreadable_files(tmp_path, body, expected):
    path = tmp_path / "goals.yaml"
    path.write_text(body, encoding="utf-8")
    assert problems(path)[0].startswith(expected)


def test_a_missing_file(tmp_path):
    assert problems(tmp_path / "nope.yaml")[0].startswith("F:1:1: cannot read file")
