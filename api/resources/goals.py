"""GET /v1/goals: where each recovery goal of the configured goals file stands on a day.

The goals file is the `goals` setting (`ARREARS_GOALS`; default the shipped
policies/goals.yaml), read on every request, so an edit shows at once. A goal naming
an aging bucket or segment the active policy (or `policy`) lacks is reported with
status `no-data` and the reason. Statuses: docs/goals-and-report.md. The whole
portfolio is read for every request: seconds for 100,000 accounts.
"""
from __future__ import annotations

from datetime import datetime, timezone

from arrears.api.openapi.model import DIGEST, ref
from arrears.api.problems import ApiProblem, input_message
from arrears.api.resources.common import COMPLIANCE, policy_or_active
from arrears.api.resources.kpis import DATE
from arrears.api.routing import Param, Resource
from arrears.engine.domain.errors import InputError, PolicyError
from arrears.engine.domain.model import parse_date
from arrears.engine.goals import days_to_measure, evaluate_goals, load_goals
from arrears.engine.kpis import ledger_from_store

resource = Resource("goals", "Goals", "Recovery goals and their progress (compliance).")

QUERY = (
    Param("at", DATE, "Judge the goals as of the end of this day (YYYY-MM-DD, 1900-2199); default today (UTC)."),
    Param("policy", DIGEST,
          "Aging buckets and segments of this stored policy version (its digest); default the active policy."),
)


def _unusable(settings, exc: PolicyError) -> ApiProblem:
    """503: the configured goals file is missing or has problems (each with line and column)."""
    errors = [{"pointer": p.path, "line": p.line, "column": p.col, "detail": p.message} for p in exc.problems]
    return ApiProblem(503, "unavailable", f"the goals file {settings.goals_path.name} cannot be used "
                      f"({len(errors)} problem{'s' if len(errors) != 1 else ''}); fix it or set `goals` / "
                      "ARREARS_GOALS", errors)


@resource.route("GET", "/v1/goals", roles=COMPLIANCE, summary="Progress of the recovery goals",
                operation_id="read_goals", description=__doc__.split("\n", 2)[2].strip(), query=QUERY,
                responses={200: ("Every goal with its status", ref("GoalsReport")),
                           503: ("The goals file is missing or not valid", ref("Problem"))})
def read_goals(call):
    """GET /v1/goals: every goal judged on `at`."""
    q = call.query
    try:
        at = parse_date(q["at"], "at") if q["at"] else datetime.now(timezone.utc).date()
    except InputError as exc:
        detail = input_message(exc)
        raise ApiProblem(400, "invalid-parameter", f"at: {detail}", [{"parameter": "at", "detail": detail}]) from None
    policy = policy_or_active(call.state, q["policy"], {"parameter": "policy"})
    settings = call.state.settings
    try:
        # Names are checked against the policy per goal when measured, so a policy
        # activation that renames a bucket leaves the other goals working.
        goalset = load_goals(settings.goals_path)
    except PolicyError as exc:
        raise _unusable(settings, exc) from None
    ledger = ledger_from_store(call.state.store, policy, segment_days=days_to_measure(goalset, at))
    report = evaluate_goals(goalset, ledger, policy, at, costs=settings.kpi_costs).to_dict()
    report["source"] = settings.goals_path.name       # not the server's directory layout
    return report
