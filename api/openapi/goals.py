"""JSON Schemas of `GET /v1/goals`: the report `GoalsReport.to_dict()` writes (docs/goals-and-report.md)."""
from __future__ import annotations

from arrears.api.openapi.model import OPT_STR, STR, _object, nullable, ref
from arrears.engine.goals import MILESTONE_STATUSES, STATUSES
from arrears.engine.kpis.catalogue import NAMES as KPI_NAMES

DAY = {"type": "string", "format": "date"}
DECIMAL = {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$", "description": "A decimal number."}
LEVEL = nullable({**DECIMAL, "description": "A level in the goal's unit (null: not measured)."})
UNITS = ["money", "count", "percent", "days", "ratio"]


def components() -> dict:
    """The goals report's component schemas."""
    kpi = nullable({"enum": list(KPI_NAMES), "description": "The KPI measured (docs/kpis.md); null for aging "
                                                            "and roll-rate metrics."})
    metric = _object({"kind": {"enum": ["kpi", "aging", "roll"]}, "kpi": kpi,
                      "buckets": {"type": "array", "items": STR},
                      "measure": nullable({"enum": ["balance", "count"]}), "label": STR},
                     ("kind", "kpi", "buckets", "measure", "label"),
                     "What the goal measures: a KPI, aging buckets' balance or count, or a roll rate.")
    dated = _object({"date": DAY, "value": LEVEL}, ("date", "value"))
    milestone = _object({"date": DAY, "value": LEVEL, "change_percent": nullable(DECIMAL), "measured": LEVEL,
                         "status": {"enum": list(MILESTONE_STATUSES)}},
                        ("date", "value", "change_percent", "measured", "status"),
                        "An intermediate target: its level, the level measured on its date, met or missed.")
    goal = _object({
        "id": STR, "title": STR, "metric": metric,
        "scope": _object({"currency": OPT_STR, "segment": OPT_STR}, ("currency", "segment")),
        "currency": OPT_STR, "unit": nullable({"enum": UNITS}), "direction": {"enum": ["down", "up"]},
        "window_days": nullable({"type": "integer", "minimum": 1}), "tolerance_percent": DECIMAL,
        "status": {"enum": list(STATUSES)}, "reason": OPT_STR,
        "baseline": _object({"date": DAY, "value": LEVEL, "stated": {"type": "boolean"}}, ("date", "value", "stated")),
        "target": _object({"date": DAY, "value": LEVEL, "change_percent": nullable(DECIMAL)},
                          ("date", "value", "change_percent")),
        "current": dated, "expected": LEVEL, "final": nullable(dated), "gap": LEVEL, "band": LEVEL,
        "progress_percent": nullable(DECIMAL),
        "milestones": {"type": "array", "items": milestone},
    }, ("id", "title", "metric", "scope", "currency", "unit", "direction", "window_days", "tolerance_percent",
        "status", "reason", "baseline", "target", "current", "expected", "final", "gap", "band",
        "progress_percent", "milestones"),
        "One goal judged on the day: baseline, current, expected (on the plan line) and target levels, "
        "and its status.")
    policy = _object({"name": STR, "version": STR, "digest": STR}, ("name", "version", "digest"))
    report = _object({"at": DAY, "source": STR, "policy": policy,
                      "counts": _object({s: {"type": "integer", "minimum": 0} for s in STATUSES}, STATUSES),
                      "goals": {"type": "array", "items": ref("GoalStatus")}},
                     ("at", "source", "policy", "counts", "goals"),
                     "Every recovery goal of the configured goals file, judged on `at`.")
    return {"GoalStatus": goal, "GoalsReport": report}
