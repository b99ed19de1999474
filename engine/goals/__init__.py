"""Recovery goals: specific, measurable, time-bound targets tracked against the portfolio.

    from arrears.engine.goals import days_to_measure, evaluate_goals, load_goals

    goalset = load_goals("policies/goals.yaml", buckets=policy.bucket_names, segments=policy.segments)
    ledger = ledger_from_store(store, policy, segment_days=days_to_measure(goalset, at))
    evaluate_goals(goalset, ledger, policy, at).to_dict()

`spec` loads and checks the YAML (file:line:col problems), `measure` reads a goal's
metric from the KPI core's reports, `progress` judges (the statuses are defined
there), `evaluate` puts them together. docs/goals-and-report.md has the details.

May import: the core, `kpis` and the shipped policies.
"""
from arrears.engine.goals.evaluate import GoalsReport, GoalStatus, days_to_measure, evaluate_goals
from arrears.engine.goals.progress import MILESTONE_STATUSES, STATUSES
from arrears.engine.goals.spec import Goal, GoalSet, Metric, Point, load_goals
from arrears.policies import POLICIES_DIR

DEFAULT_GOALS = POLICIES_DIR / "goals.yaml"
GOALS_ENV = "ARREARS_GOALS"

__all__ = ["DEFAULT_GOALS", "GOALS_ENV", "MILESTONE_STATUSES", "STATUSES", "Goal", "GoalSet", "GoalStatus",
           "GoalsReport", "Metric", "Point", "days_to_measure", "evaluate_goals", "load_goals"]
