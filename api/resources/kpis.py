"""GET /v1/kpis: collection KPIs of a period, per group, computed from the store.

Aging, collection and recovery rates, DSO and best-possible DSO, average days
delinquent, CEI, roll rates, cure rate, promise-kept rate, right-party contact rate,
bad-debt write-offs and cost to collect, per currency (amounts of different currencies
are never added). The active policy (or `policy`) gives the aging buckets and segments;
unit costs come from the `kpis.costs` configuration. Formulas: docs/kpis.md.
The whole portfolio is read for every request: seconds for 100,000 accounts.
"""
from __future__ import annotations

from arrears.api.openapi.model import DATE, DIGEST, ref
from arrears.api.problems import ApiProblem, input_message
from arrears.api.resources.common import COMPLIANCE, policy_or_active
from arrears.api.routing import Param, Resource
from arrears.engine.domain.batch import epoch_day
from arrears.engine.domain.errors import InputError
from arrears.engine.domain.model import parse_date
from arrears.engine.kpis import compute_kpis, ledger_from_store
from arrears.engine.kpis.groups import GROUP_BY

resource = Resource("kpis", "KPIs", "Collection KPIs (compliance).")

PERIOD = (
    Param("from", DATE, "First day of the period (YYYY-MM-DD, 1900-2199; the debtors' local days).",
          required=True),
    Param("to", DATE, "Last day of the period (included).", required=True),
    Param("group_by", {"type": "string", "enum": list(GROUP_BY)},
          "One row per segment (at the end of the period), aging bucket (at its start), channel kind, "
          "decided stage or experiment strategy (of the latest decision made under an experiment); "
          "default the whole portfolio."),
    Param("policy", DIGEST,
          "Aging buckets, segments and promise tolerance of this stored policy version (its digest); "
          "default the active policy."),
)


def _bad(parameter: str, detail: str) -> ApiProblem:
    return ApiProblem(400, "invalid-parameter", f"{parameter}: {detail}",
                      [{"parameter": parameter, "detail": detail}])


def _day(raw: str, parameter: str):
    try:
        return parse_date(raw, parameter)
    except InputError as exc:
        raise _bad(parameter, input_message(exc)) from None


@resource.route("GET", "/v1/kpis", roles=COMPLIANCE, summary="Collection KPIs of a period",
                operation_id="read_kpis", description=__doc__.split("\n", 2)[2].strip(),
                query=PERIOD, responses={200: ("The KPIs", ref("KpiReport"))})
def read_kpis(call):
    """GET /v1/kpis: the KPIs of `from..to`, grouped by `group_by`."""
    q = call.query
    start, end = _day(q["from"], "from"), _day(q["to"], "to")
    if start > end:
        raise _bad("from", f"the period starts ({start}) after it ends ({end})")
    policy = policy_or_active(call.state, q["policy"], {"parameter": "policy"})
    ledger = ledger_from_store(call.state.store, policy, segment_days=[epoch_day(end)])
    report = compute_kpis(ledger, start, end, group_by=q["group_by"], policy=policy,
                          costs=call.state.settings.kpi_costs)
    return report.to_dict()
