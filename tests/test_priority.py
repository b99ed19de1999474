"""Priority: weighted, normalised factors whose contributions add up to the 0-100 score."""
from __future__ import annotations

import copy
import math
from datetime import datetime, time, timezone

import pytest

from arrears.engine.decisions.core import decide
from arrears.engine.policy.compiler import compile_policy
from tests.core_factories import NOW, days_ago, ev, make_account

POSITIVE = 35 + 25 + 20 + 10          # the default policy's positive weights


def at(day, hour=10):
    return datetime.combine(day, time(hour), timezone.utc)


def contributions(d) -> dict:
    return d.priority.contributions if isinstance(d.priority.contributions, dict) else dict(d.priority.contributions)


def share(weight, factor):
    return round(100 * weight * factor / POSITIVE, 2)


@pytest.mark.parametrize("account, history", [
    ({}, []),
    ({"amount": "50000.00", "due_date": str(days_ago(200)), "relationship_tier": "strategic"}, []),
    ({"amount": "12.34", "due_date": str(days_ago(-5)), "risk_score": 0.9}, []),
    ({"amount": "777.77", "on_time_ratio": 0.8, "relationship_tier": "key"},
     [ev("payment", at(days_ago(20)), amount="10")]),
    ({"amount": "1000000", "due_date": str(days_ago(3000)), "risk_score": 0.0, "on_time_ratio": 1.0}, []),
])
def test_contributions_sum_to_the_score(policy, account, history):
    d = decide(make_account(**account), history, policy, NOW)
    parts = contributions(d)
    assert list(parts) == ["balance", "days_past_due", "recovery_likelihood", "legal_exposure",
                           "relationship_value"]
    total = sum(parts.values())
    assert d.priority.score == pytest.approx(min(max(total, 0.0), 100.0), abs=0.011)
    assert 0.0 <= d.priority.score <= 100.0


@pytest.mark.parametrize("amount, expected", [
    ("0.00", 0.0),
    ("1.00", math.log1p(1) / math.log1p(50000)),
    ("999.99", math.log1p(999.99) / math.log1p(50000)),
    ("50000.00", 1.0),
    ("123456.00", 1.0),                              # capped
])
def test_balance_factor_is_log_scaled_to_the_cap(policy, amount, expected):
    paid = [ev("payment", at(days_ago(1)), amount="0.01")] if amount == "0.00" else []
    acc = make_account(amount=amount if amount != "0.00" else "0.01")
    d = decide(acc, paid, policy, NOW)
    assert contributions(d)["balance"] == share(35, expected)


def test_balance_factor_linear_scale(policy_doc):
    doc = copy.deepcopy(policy_doc)
    doc["priority"]["factors"]["balance"] = {"weight": 35, "scale": "linear", "cap": "2000.00"}
    p = compile_policy(doc)
    d = decide(make_account(amount="500.00"), [], p, NOW)
    assert contributions(d)["balance"] == share(35, 0.25)


@pytest.mark.parametrize("dpd, expected", [(-5, 0.0), (0, 0.0), (45, 0.25), (180, 1.0), (400, 1.0)])
def test_days_past_due_factor(policy, dpd, expected):
    d = decide(make_account(due_date=days_ago(dpd)), [], policy, NOW)
    assert contributions(d)["days_past_due"] == share(25, expected)


@pytest.mark.parametrize("dpd, expected", [(-5, 0.0), (219, 0.1), (2190, 1.0), (3000, 1.0)])
def test_legal_exposure_is_the_share_of_the_limitation_period_elapsed(policy, dpd, expected):
    d = decide(make_account(due_date=days_ago(dpd)), [], policy, NOW)
    assert contributions(d)["legal_exposure"] == share(10, expected)


def broken_promise(made_ago):
    return ev("promise_to_pay", at(days_ago(made_ago)), amount="100", until=str(days_ago(made_ago - 5)))


@pytest.mark.parametrize("account, history, expected", [
    ({}, [], 0.4 * 0.5 + 0.4 * 0.5),                                      # unknowns count 0.5
    ({"risk_score": 0.2, "on_time_ratio": 0.9}, [], 0.4 * 0.8 + 0.4 * 0.9),
    ({"risk_score": 0.0, "on_time_ratio": 1.0}, [ev("payment", at(days_ago(89)), amount="1")], 1.0),
    ({}, [ev("payment", at(days_ago(91)), amount="1")], 0.4),           # older than 90 days
    ({}, [broken_promise(100)], 0.4 - 0.25),
    ({"risk_score": 1.0, "on_time_ratio": 0.0}, [broken_promise(100)], 0.0),   # clamped at 0
])
def test_recovery_likelihood(policy, account, history, expected):
    d = decide(make_account(due_date=days_ago(200), amount="5000", **account), history, policy, NOW)
    assert contributions(d)["recovery_likelihood"] == share(20, expected)


@pytest.mark.parametrize("tier, expected", [(None, 0.0), ("standard", 0.3), ("key", 0.7),
                                            ("strategic", 1.0), ("bronze", 0.0)])
def test_relationship_value_lowers_the_score(policy, tier, expected):
    plain = decide(make_account(), [], policy, NOW)
    d = decide(make_account(relationship_tier=tier), [], policy, NOW)
    assert contributions(d)["relationship_value"] == share(-10, expected)
    if expected:
        assert d.priority.score < plain.priority.score
        assert d.priority.score == pytest.approx(plain.priority.score + share(-10, expected), abs=0.011)


def test_score_is_clamped_at_zero(policy_doc):
    doc = copy.deepcopy(policy_doc)
    doc["priority"]["factors"] = {"balance": {"weight": 1, "scale": "log", "cap": "50000.00"},
                                  "relationship_value": {"weight": -100, "tiers": {"strategic": 1.0}}}
    d = decide(make_account(relationship_tier="strategic", amount="10"), [], compile_policy(doc), NOW)
    parts = contributions(d)
    assert parts["relationship_value"] == -10000.0
    assert sum(parts.values()) < 0
    assert d.priority.score == 0.0


def test_larger_and_older_debts_come_first(policy):
    small = decide(make_account(amount="100.00", due_date=days_ago(10)), [], policy, NOW)
    large = decide(make_account(amount="10000.00", due_date=days_ago(10)), [], policy, NOW)
    older = decide(make_account(amount="100.00", due_date=days_ago(100)), [], policy, NOW)
    assert large.priority.score > small.priority.score
    assert older.priority.score > small.priority.score


def test_trace_reports_each_contribution(policy):
    d = decide(make_account(relationship_tier="key"), [], policy, NOW)
    trace = {t.step: (t.outcome, t.detail) for t in d.trace}
    outcome, detail = trace["priority"]
    assert outcome == f"{d.priority.score:.2f}"
    for name, value in contributions(d).items():
        assert f"{name} {value:+.2f}" in detail
