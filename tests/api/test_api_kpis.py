"""GET /v1/kpis: the report over the API (checked against the OpenAPI document), roles, and
bad parameters as problem documents. The figures themselves are tested in tests/kpis."""
from __future__ import annotations

import pytest

from arrears.api import create_app
from arrears.api.config import ConfigError
from arrears.engine.kpis import compute_kpis, ledger_from_store
from tests.api.apikit import KEYS, account, events

OCTOBER = "/v1/kpis?from=2026-10-01&to=2026-10-31"


@pytest.fixture
def config(db_url) -> dict:
    return {"database_url": db_url, "api": {"keys": {key: role for role, key in KEYS.items()}},
            "kpis": {"costs": {"GBP": {"email": "0.50"}}}}


@pytest.fixture
def stored(api):
    """ACME-0042 (apikit): 4200.00 due 14 Sep, 1200.00 paid on 28 Sep, 860.50 due 20 Oct."""
    api.put("/v1/accounts/ACME-0042", account())
    api.post("/v1/accounts/ACME-0042/events", {"events": events()})


def test_the_report(api, stored, state):
    body = api.get(OCTOBER, role="compliance").get_json()
    assert (body["from"], body["to"], body["group_by"]) == ("2026-10-01", "2026-10-31", None)
    [gbp] = body["total"]
    f = gbp["figures"]
    # Opening (30 Sep): 3000.00 left of INV-1001 (16 days late, 1-30) + 860.50 not yet due.
    assert f["opening_receivables"] == {"amount": "3860.50", "currency": "GBP"}
    assert f["opening_past_due"] == {"amount": "3000.00", "currency": "GBP"}
    # Nothing paid in October: 47 days late at the end, all of it past due.
    assert f["closing_receivables"] == {"amount": "3860.50", "currency": "GBP"}
    assert f["closing_current"] == {"amount": "0.00", "currency": "GBP"}
    assert (f["attempts"], f["right_party_contacts"]) == (1, 0)          # the email of 1 October
    assert f["collection_costs"] == {"amount": "0.50", "currency": "GBP"}  # from the `kpis.costs` setting
    k = gbp["kpis"]
    assert k["collection_rate"]["value"] == "0.00"
    assert k["dso"] == {"value": None, "unit": "days", "reason": "no credit sales in the period"}
    assert k["cost_to_collect"]["reason"] == "nothing was collected in the period"
    assert gbp["roll_rates"][1] == {"from": "1-30", "to": "31-60",
                                    "by_balance": {"value": "100.00", "unit": "percent", "reason": None},
                                    "by_count": {"value": "100.00", "unit": "percent", "reason": None}}
    policy = state.policies.active()
    assert body["policy"]["digest"] == policy.digest
    from datetime import date
    expected = compute_kpis(ledger_from_store(state.store, policy), date(2026, 10, 1), date(2026, 10, 31),
                            policy=policy, costs=state.settings.kpi_costs).to_dict()
    assert body == expected


def test_grouped(api, stored):
    body = api.get(OCTOBER + "&group_by=segment").get_json()
    assert body["group_by"] == "segment"
    assert [(r["group"], r["currency"]) for r in body["groups"]] == [("business", "GBP")]
    body = api.get(OCTOBER + "&group_by=channel").get_json()
    assert [(r["group"], r["figures"]["accounts"], r["figures"]["attempts"]) for r in body["groups"]] == \
        [("email", 1, 1)]


def test_an_empty_store_has_no_rows(api):
    body = api.get(OCTOBER + "&group_by=stage").get_json()
    assert body["groups"] == [] and body["total"] == []


@pytest.mark.parametrize("role, status", [("compliance", 200), ("admin", 200), ("integrator", 403),
                                          ("agent", 403), (None, 401)])
def test_roles(api, role, status):
    assert api.get(OCTOBER, role=role).status_code == status


@pytest.mark.parametrize("query, parameter, detail", [
    ("to=2026-10-31", "from", "is required"),
    ("from=2026-02-30&to=2026-10-31", "from", "expected a date (YYYY-MM-DD), got '2026-02-30'"),
    ("from=1800-01-01&to=2026-10-31", "from", "must be between 1900-01-01 and 2199-12-31 (year 1800)"),
    ("from=2026-11-01&to=2026-10-31", "from", "the period starts (2026-11-01) after it ends (2026-10-31)"),
    ("from=2026-10-01&to=2026-10-31&group_by=colour", "group_by",
     "expected one of segment, bucket, channel, stage, strategy; got 'colour'"),
    ("from=2026-10-01&to=2026-10-31&policy=sha256:" + "0" * 64, "policy",
     f"no stored policy version has digest 'sha256:{'0' * 64}'"),
    ("from=2026-10-01&to=2026-10-31&currency=GBP", "currency",
     "unknown query parameter; allowed: from, to, group_by, policy"),
])
def test_bad_parameters(api, query, parameter, detail):
    response = api.get(f"/v1/kpis?{query}")
    assert response.status_code == 400
    problem = response.get_json()
    assert problem["type"] == "urn:arrears:problem:invalid-parameter"
    assert problem["errors"][0] == {"parameter": parameter, "detail": detail}


def test_bad_cost_settings_stop_the_app(db_url):
    with pytest.raises(ConfigError, match="kpis.costs.GBP.email: expected a decimal amount"):
        create_app({"database_url": db_url, "kpis": {"costs": {"GBP": {"email": "free"}}}})
    with pytest.raises(ConfigError, match="unknown kpis setting"):
        create_app({"database_url": db_url, "kpis": {"budget": 1}})
