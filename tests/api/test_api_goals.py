"""GET /v1/goals: the goals of the configured file judged over the API (responses checked against
the OpenAPI document), roles, parameters, and a broken goals file as a problem document.
The statuses themselves are tested in tests/goals."""
from __future__ import annotations

import textwrap
from datetime import date

import pytest

from arrears.engine.goals import evaluate_goals, load_goals
from arrears.engine.kpis import ledger_from_store
from tests.api.apikit import KEYS, account, events

GOALS = """
    goals:
      - id: nothing-over-30
        title: No balance more than 30 days late by the end of the year
        metric: {bucket: ["31-60", "61-90", "90+"]}
        baseline: 2026-10-01
        target: {by: 2026-12-31, value: 0}
      - id: halve-1-30
        metric: {bucket: "1-30"}
        baseline: 2026-10-01
        target: {by: 2026-12-31, change_percent: -50}
      - id: custom-bucket
        metric: {bucket: "over-120"}
        baseline: 2026-10-01
        target: {by: 2026-12-31, value: 0}
"""


@pytest.fixture
def goals_path(tmp_path):
    path = tmp_path / "goals.yaml"
    path.write_text(textwrap.dedent(GOALS).lstrip("\n"), encoding="utf-8")
    return path


@pytest.fixture
def config(db_url, goals_path) -> dict:
    return {"database_url": db_url, "goals": str(goals_path),
            "api": {"keys": {key: role for role, key in KEYS.items()}}}


@pytest.fixture
def stored(api):
    """ACME-0042 (apikit): 4200.00 due 14 Sep, 1200.00 paid on 28 Sep, 860.50 due 20 Oct: the whole
    3860.50 is in 1-30 on 1 Oct (17 days late) and in 31-60 on 31 Oct (47 days)."""
    api.put("/v1/accounts/ACME-0042", account())
    api.post("/v1/accounts/ACME-0042/events", {"events": events()})


def test_the_goals(api, stored, state, goals_path):
    body = api.get("/v1/goals?at=2026-10-31", role="compliance").get_json()
    assert (body["at"], body["source"]) == ("2026-10-31", "goals.yaml")
    over, half, custom = body["goals"]
    # Planned change 0: the band is 10% of the target, 0; 3860.50 above a line at 0.00.
    assert (over["baseline"]["value"], over["current"]["value"], over["expected"]) == ("0.00", "3860.50", "0.00")
    assert over["status"] == "off-track"
    # 3860.50 -> 1930.25 over 91 days; 30 days on, expected 3860.50 - 1930.25 * 30/91 = 3224.15; now 0.00.
    assert (half["target"]["value"], half["expected"], half["current"]["value"]) == ("1930.25", "3224.15", "0.00")
    assert half["status"] == "on-track"
    assert custom["status"] == "no-data"
    assert custom["reason"].startswith("current 2026-10-31: the policy default 1.0.0 has no aging bucket 'over-120'")
    assert body["counts"] == {"not-started": 0, "on-track": 1, "at-risk": 0, "off-track": 1, "achieved": 0,
                              "missed": 0, "no-data": 1}
    policy = state.policies.active()
    expected = evaluate_goals(load_goals(goals_path), ledger_from_store(state.store, policy), policy,
                              date(2026, 10, 31)).to_dict()
    assert body == {**expected, "source": "goals.yaml"}


def test_roles(api, stored):
    for role in ("integrator", "agent", None):
        assert api.get("/v1/goals", role=role).status_code == (401 if role is None else 403)
    assert api.get("/v1/goals", role="admin").status_code == 200        # today: whatever the statuses


@pytest.mark.parametrize("query, parameter", [("at=2026-02-30", "at"), ("at=yesterday", "at"),
                                              ("policy=sha256:nope", "policy")])
def test_bad_parameters(api, query, parameter):
    resp = api.get(f"/v1/goals?{query}")
    assert resp.status_code == 400
    assert resp.get_json()["errors"][0]["parameter"] == parameter


def test_a_broken_goals_file_is_503_with_every_problem(api, goals_path):
    goals_path.write_text("goals:\n  - id: a\n    metric: dso\n    baseline: 2026-01-01\n"
                          "    target: {by: 2025-01-01, value: 1}\n", encoding="utf-8")
    resp = api.get("/v1/goals")
    assert resp.status_code == 503
    body = resp.get_json()
    assert body["type"] == "urn:arrears:problem:unavailable"
    assert body["errors"] == [{"pointer": "/goals/0/target/by", "line": 5, "column": 18,
                               "detail": "the target date 2025-01-01 must be after the baseline date 2026-01-01"}]
    goals_path.unlink()
    body = api.get("/v1/goals").get_json()
    assert body["status"] == 503 and body["errors"][0]["detail"].startswith("cannot read file")
