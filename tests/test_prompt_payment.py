"""A prompt-payment discount after the due date (`early_payment_discount.days_after_due`):
"2% when a consumer pays in full within 10 days after the due date" (issue 13)."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from decimal import Decimal

import pytest

from arrears.engine.decisions.core import decide
from arrears.engine.policy.compiler import compile_policy
from tests.core_factories import NOW, days_ago, make_account, policy_doc_without_house_hours
from tests.policy_cases import assert_batch_agrees, position, problems_of, shipped_with


def brief_doc(before: int = 0) -> dict:
    doc = policy_doc_without_house_hours()
    doc["incentives"]["early_payment_discount"] = {
        "percent": 2, "window_days": before, "days_after_due": 10, "when": {"segment": "consumer"}}
    return doc


@pytest.fixture(scope="module")
def policy():
    return compile_policy(brief_doc())


def early(d):
    return next((o for o in d.offers if o.kind == "early_payment_discount"), None)


def trace_of(d) -> dict:
    return {t.step: (t.outcome, t.detail) for t in d.trace}


@pytest.mark.parametrize("dpd, offered", [(-1, False), (0, True), (1, True), (10, True), (11, False)])
def test_offered_from_the_due_date_until_ten_days_after(policy, dpd, offered):
    d = decide(make_account(due_date=days_ago(dpd), amount="1234.56"), [], policy, NOW)
    o = early(d)
    assert (o is not None) is offered
    if offered:
        assert o.discount.amount == Decimal("24.69") and o.amount.amount == Decimal("1209.87")
        # it expires at the end of the tenth day after the due date, London time (UTC in November)
        end = days_ago(dpd) + timedelta(days=11)
        assert o.expires_at == datetime.combine(end, time(0), timezone.utc)


def test_the_trace_says_until_when(policy):
    d = decide(make_account(due_date="2026-11-17", amount="1000.00"), [], policy, NOW)
    assert trace_of(d)["offer early_payment_discount"] == (
        "offered", "2% off (20.00 EUR) if paid in full by 2026-11-27, 10 days after the due date 2026-11-17")
    late = decide(make_account(due_date="2026-11-01", amount="1000.00"), [], policy, NOW)
    assert trace_of(late)["offer early_payment_discount"] == (
        "not offered", "only from 0 days before the due date until 10 days after it; is 21")


def test_only_for_the_segment_the_policy_names(policy):
    d = decide(make_account(due_date=days_ago(3), debtor_type="business"), [], policy, NOW)
    assert early(d) is None


def test_before_and_after_the_due_date_together():
    p = compile_policy(brief_doc(before=5))
    assert early(decide(make_account(due_date=days_ago(-5)), [], p, NOW)) is not None
    assert early(decide(make_account(due_date=days_ago(10)), [], p, NOW)) is not None
    assert early(decide(make_account(due_date=days_ago(-6)), [], p, NOW)) is None


def test_the_default_stays_before_the_due_date():
    doc = policy_doc_without_house_hours()
    p = compile_policy(doc)
    assert early(decide(make_account(due_date=days_ago(1)), [], p, NOW)) is None
    assert early(decide(make_account(due_date=days_ago(0)), [], p, NOW)) is not None


def test_batch_and_single_account_decisions_agree(policy):
    accounts = [make_account(id=f"A{i}", due_date=days_ago(dpd), currency=cur, amount=amt)
                for i, (dpd, cur, amt) in enumerate([(0, "EUR", "10.00"), (5, "JPY", "1234"), (10, "GBP", "99.99"),
                                                     (11, "EUR", "500.00"), (-2, "EUR", "500.00")])]
    assert_batch_agrees(policy, accounts)


def test_days_after_due_is_validated_where_it_is_written():
    text = shipped_with("    window_days: 10          # offered from 10 days before the due date until it\n",
                        "    window_days: 0\n    days_after_due: -3\n")
    assert problems_of(text) == [(*position(text, "-3\n", after="days_after_due"),
                                  "expected a value of at least 0, got -3")]
