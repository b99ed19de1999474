"""Settlement approval stated in the policy (`settlement.approval`): by balance, by the amount
paid or by the discount, with thresholds per currency; the decision's offer says why it needs
approval (which figure is above which threshold) (issue 13)."""
from __future__ import annotations

import pytest

from arrears.engine.decisions.core import decide
from arrears.engine.decisions.explain import render_text
from arrears.engine.policy.compiler import compile_policy
from tests.core_factories import NOW, days_ago, make_account, policy_doc_without_house_hours
from tests.policy_cases import assert_batch_agrees, assert_located, problems_of, shipped_with


def policy_with(approval: dict, **settlement):
    """The brief's settlement: 70% of the balance, never below 500, from 120 days late."""
    doc = policy_doc_without_house_hours()
    doc["incentives"]["max_discount_percent"] = 40
    doc["incentives"]["settlement"] = {"discount_percent": 30, "floor": "500.00", "min_days_past_due": 120,
                                       "approval": approval, **settlement}
    return compile_policy(doc)


BRIEF = {"balance_above": {"GBP": "10000.00", "USD": "10000.00"}}


def settlement(d):
    return next(o for o in d.offers if o.kind == "settlement")


def old_account(amount, currency="GBP", **extra):
    return make_account(due_date=days_ago(130), amount=amount, currency=currency, **extra)


def test_a_balance_above_its_currencys_threshold_needs_approval():
    p = policy_with(BRIEF)
    big = settlement(decide(old_account("12000.00"), [], p, NOW))
    assert big.requires_approval and big.approval_reasons == ("balance 12000.00 GBP is above 10000.00 GBP",)
    assert big.to_dict()["approval_reasons"] == ["balance 12000.00 GBP is above 10000.00 GBP"]
    small = settlement(decide(old_account("10000.00"), [], p, NOW))
    assert not small.requires_approval and "approval_reasons" not in small.to_dict()


def test_a_currency_without_a_threshold_always_needs_approval():
    p = policy_with(BRIEF)
    yen = settlement(decide(old_account("5000", currency="JPY"), [], p, NOW))
    assert yen.approval_reasons == ("no balance threshold for JPY",)
    other = policy_with({"balance_above": {"GBP": "10000.00", "other": "8000.00"}})
    assert not settlement(decide(old_account("5000", currency="JPY"), [], other, NOW)).requires_approval
    assert settlement(decide(old_account("9000.00", currency="EUR"), [], other, NOW)).approval_reasons == (
        "balance 9000.00 EUR is above 8000.00 EUR",)


def test_every_figure_above_its_threshold_is_named():
    p = policy_with({"balance_above": "10000.00", "amount_above": "5000.00", "discount_above": "2000.00"})
    o = settlement(decide(old_account("20000.00"), [], p, NOW))
    assert (o.amount.amount, o.discount.amount) == (14000, 6000)
    assert o.approval_reasons == ("balance 20000.00 GBP is above 10000.00 GBP",
                                  "amount paid 14000.00 GBP is above 5000.00 GBP",
                                  "discount 6000.00 GBP is above 2000.00 GBP")
    only_amount = settlement(decide(old_account("8000.00"), [], p, NOW))
    assert only_amount.approval_reasons == ("amount paid 5600.00 GBP is above 5000.00 GBP",
                                            "discount 2400.00 GBP is above 2000.00 GBP")


def test_approval_above_is_the_discounts_threshold():
    p = policy_with({}, approval_above="2000.00")
    assert settlement(decide(old_account("8000.00"), [], p, NOW)).approval_reasons == (
        "discount 2400.00 GBP is above 2000.00 GBP",)
    assert not settlement(decide(old_account("6000.00"), [], p, NOW)).requires_approval


def test_the_trace_and_the_explanation_say_why():
    d = decide(old_account("12000.00"), [], policy_with(BRIEF), NOW)
    trace = {t.step: (t.outcome, t.detail) for t in d.trace}
    assert trace["offer settlement"] == (
        "offered", "settle for 8400.00 GBP, saving 3600.00 GBP; needs approval: balance 12000.00 GBP is above "
                   "10000.00 GBP")
    assert "(needs approval: balance 12000.00 GBP is above 10000.00 GBP)" in render_text(d)


def test_batch_and_single_account_decisions_agree():
    p = policy_with({"balance_above": {"GBP": "10000.00", "USD": "12000.00"}, "discount_above": "3000.00"})
    accounts = [old_account(amt, currency=cur, id=f"A{i}") for i, (amt, cur) in enumerate(
        [("12000.00", "GBP"), ("11000.00", "USD"), ("13000.00", "USD"), ("400", "JPY"), ("9000.00", "GBP"),
         ("100.00", "EUR")])] + [make_account(id="B", due_date=days_ago(10), amount="50000.00", currency="GBP")]
    assert_batch_agrees(p, accounts)


def _approval(replacement: str) -> str:
    return shipped_with('    approval_above: "5000.00"\n', replacement)


def test_the_approval_settings_validate():
    assert problems_of(_approval('    approval:\n      balance_above: {GBP: "10000.00", other: "9000.00"}\n'
                                 '      amount_above: "2000"\n')) == []


@pytest.mark.parametrize("replacement, fragment, message", [
    ('    approval:\n      balance_above: {gbp: "10000.00"}\n', "gbp",
     "bad name 'gbp': a currency is an ISO 4217 code such as GBP, or 'other' for the currencies not named"),
    ('    approval:\n      balance_above: {GBP: "10k"}\n', '"10k"', "'10k': expected a decimal amount"),
    ('    approval:\n      paid_above: "10"\n', "paid_above", "unknown key 'paid_above'; did you mean 'amount_above'?"),
    ('    approval_above: "5000.00"\n    approval:\n      discount_above: "10"\n', "discount_above",
     "approval.discount_above says again what approval_above says"),
])
def test_approval_problems_are_located(replacement, fragment, message):
    assert_located(_approval(replacement), fragment, message)
