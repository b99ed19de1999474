"""Risk as a priority factor of its own (`priority.factors.risk`), beside recovery likelihood:
its value is the risk score; a positive weight puts riskier accounts first, a negative one last."""
from __future__ import annotations

import pytest

from arrears.engine.decisions.core import decide
from arrears.engine.policy.compiler import compile_policy
from tests.core_factories import NOW, make_account, policy_doc_without_house_hours
from tests.policy_cases import assert_batch_agrees, position, problems_of, shipped_with


def policy_with(risk: dict):
    doc = policy_doc_without_house_hours()
    doc["priority"]["factors"]["risk"] = risk
    return compile_policy(doc)


def contributions(d) -> dict:
    return dict(d.priority.contributions)


POSITIVE = 35 + 25 + 20 + 10


@pytest.mark.parametrize("score, expected", [(0.0, 0.0), (0.25, 0.25), (0.9, 0.9), (None, 0.5)])
def test_the_factor_is_the_risk_score(score, expected):
    p = policy_with({"weight": 15})
    extra = {} if score is None else {"risk_score": score}
    d = decide(make_account(**extra), [], p, NOW)
    assert list(contributions(d)) == ["balance", "days_past_due", "recovery_likelihood", "risk",
                                      "legal_exposure", "relationship_value"]
    assert contributions(d)["risk"] == round(100 * 15 * expected / (POSITIVE + 15), 2)


def test_an_unknown_score_counts_what_the_policy_says():
    d = decide(make_account(), [], policy_with({"weight": 15, "unknown": 1.0}), NOW)
    assert contributions(d)["risk"] == round(100 * 15 / (POSITIVE + 15), 2)


def test_a_positive_weight_puts_riskier_accounts_first():
    p = policy_with({"weight": 15})
    safe, risky = (decide(make_account(risk_score=r), [], p, NOW) for r in (0.1, 0.9))
    assert risky.priority.score > safe.priority.score


def test_a_negative_weight_puts_riskier_accounts_last():
    p = policy_with({"weight": -15})
    safe, risky = (decide(make_account(risk_score=r), [], p, NOW) for r in (0.1, 0.9))
    assert contributions(risky)["risk"] == round(100 * -15 * 0.9 / POSITIVE, 2)
    assert risky.priority.score < safe.priority.score


def test_batch_and_single_account_decisions_agree():
    p = policy_with({"weight": 15})
    accounts = [make_account(id=f"A{i}", **({} if r is None else {"risk_score": r}))
                for i, r in enumerate([None, 0.0, 0.3, 1.0])]
    assert_batch_agrees(p, accounts)


def test_the_factor_is_validated_where_it_is_written():
    line = "    recovery_likelihood: {weight: 20}\n"
    text = shipped_with(line, line + "    risk: {weight: 5, unknown: 2}\n")
    assert problems_of(text) == [(*position(text, "2}\n", after="risk: {"), "expected a value of at most 1, got 2")]
