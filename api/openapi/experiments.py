"""JSON Schemas of the experiments resource: an experiment's record and its results
(`arrears.engine.experiments.results.Results.to_dict()`, docs/experiments.md)."""
from __future__ import annotations

from arrears.api.openapi.model import OPT_STR, STR, _object, nullable, ref

NUMBER = nullable({"type": "number"})
INT = {"type": "integer", "minimum": 0}
EPOCH = {"type": "integer", "description": "Epoch seconds."}
COMPARISON = ("test", "champion", "challenger", "difference", "low", "high", "p_value")
RECORD = ("id", "name", "digest", "salt", "champion_digest", "status", "started_at", "started_by", "ended_at",
          "ended_by", "promoted", "paused_reason")


def _map(values: dict, description: str = "") -> dict:
    out = {"type": "object", "additionalProperties": values}
    if description:
        out["description"] = description
    return out


def components() -> dict:
    """The experiments resource's component schemas."""
    record = _object({"id": INT, "name": STR, "digest": STR, "salt": STR, "champion_digest": STR,
                      "status": {"enum": ["running", "paused", "stopped", "promoted"]}, "started_at": EPOCH,
                      "started_by": STR, "ended_at": nullable(EPOCH), "ended_by": OPT_STR,
                      "promoted": OPT_STR, "paused_reason": OPT_STR},
                     RECORD, "An experiment as stored: its file's digest, the champion's policy when it started, "
                             "its status, who started and ended it; `paused_reason`: why the tick paused it "
                             "(everyone is then decided under the champion until it is stopped).")
    comparison = _object({"test": {"enum": ["two proportions", "Welch"]},
                          **{k: NUMBER for k in COMPARISON[1:]}}, COMPARISON,
                         "A challenger against the champion: each one's value (a proportion as a fraction of 1, "
                         "or a mean per-debtor rate in percent), the difference (challenger - champion), its "
                         "95% interval `low`..`high` and the test's two-sided p-value (null: not enough data).")
    strategy = _object({"name": STR, "policy": OPT_STR, "share": {"type": "number"}}, ("name", "policy", "share"))
    metric = _object({"kpi": STR, "minimum_detectable_effect": {"type": "number"}, "baseline": {"type": "number"},
                      "standard_deviation": NUMBER, "alpha": {"type": "number"}, "power": {"type": "number"},
                      "test": {"enum": ["two proportions", "Welch"]}},
                     ("kpi", "minimum_detectable_effect", "baseline", "standard_deviation", "alpha", "power",
                      "test"))
    experiment = _object({
        "name": STR, "description": STR, "unit": {"enum": ["debtor"]}, "strategies": {"type": "array",
                                                                                  "items": strategy},
        "eligibility": nullable({"type": "object"}), "start": {"type": "string", "format": "date"},
        "end": {"type": "string", "format": "date"}, "primary_metric": metric,
        "guardrails": {"type": "array", "items": STR},
        "sample_size": _object({"total": INT, "per_arm": _map(INT)}, ("total", "per_arm")), "digest": STR},
        ("name", "description", "unit", "strategies", "eligibility", "start", "end", "primary_metric", "guardrails",
         "sample_size", "digest"), "The experiment file as started, with the debtors it needs.")
    ratio = _object({"observed": _map(INT), "expected": _map(NUMBER), "chi_square": NUMBER, "p_value": NUMBER,
                     "mismatch": {"type": "boolean"}}, ("observed", "expected", "chi_square", "p_value", "mismatch"),
                    "The sample-ratio check: debtors per strategy against the shares (Pearson's chi-square); "
                    "`mismatch` when p < 0.001.")
    results = _object({
        **{k: v for k, v in record["properties"].items() if k not in ("id", "digest", "salt", "champion_digest")},
        "champion_policy": STR, "experiment": experiment,
        "period": nullable(_object({"from": STR, "to": STR}, ("from", "to"))),
        "debtors": _map(INT, "Debtors assigned per strategy (and `ineligible`)."),
        "kpis": _map(_map(OPT_STR), "Per strategy, every KPI of the KPI table over its debtors (decimal text, "
                                    "null when it cannot be computed)."),
        "series": {"type": "array", "description": "The primary KPI per strategy in each calendar month of the "
                                                   "period (the first from the start, the last to the end).",
                   "items": _object({"from": STR, "to": STR, "values": _map(OPT_STR)}, ("from", "to", "values"))},
        "primary": _map(ref("ExperimentComparison"), "Per challenger, the primary metric against the champion."),
        "sample_ratio": nullable(ratio),
        "guardrails": _map(_map(ref("ExperimentComparison")), "Per challenger and guardrail metric, the share "
                                                             "of debtors with such an event against the champion."),
        "alarms": {"type": "array", "items": STR}, "verdict": STR,
        "paused": _object({"days_excluded": INT, "stretches": {
            "type": "array", "items": _object({"from": STR, "to": STR, "reason": STR}, ("from", "to", "reason"))}},
            ("days_excluded", "stretches"),
            "The days (UTC) the experiment was paused, from the day each pause began to the day it was "
            "resumed: the champion decided every debtor then, so what the debtors did on those days is left "
            "out of every strategy's figures and guardrails.")},
        ("name", "status", "started_at", "started_by", "ended_at", "ended_by", "promoted", "paused_reason",
         "champion_policy",
         "experiment", "period", "debtors", "kpis", "series", "primary", "sample_ratio", "guardrails", "alarms", "verdict",
         "paused"),
        "An experiment's results: per-strategy KPIs, the primary metric's difference with its confidence "
        "interval and p-value, the sample-ratio check, guardrail alarms and a verdict in plain words.")
    document = {"type": "object",
                "description": "An experiment file (YAML, UTF-8) as engine/policy/schemas/experiment.schema.json "
                               "and the checks of `arrears experiment validate` accept; anything else is 422 "
                               "`invalid-experiment` with every problem's line and column."}
    promote = _object({"challenger": STR}, ("challenger",), "The challenger whose policy version to activate.")
    return {"ExperimentRecord": record, "ExperimentList": _object(
                {"items": {"type": "array", "items": ref("ExperimentRecord")}}, ("items",)),
            "ExperimentComparison": comparison, "ExperimentResults": results,
            "ExperimentDocument": document, "PromoteRequest": promote}
