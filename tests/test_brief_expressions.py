"""The head of collections' brief (shared/examples/collections-brief.md) written with the new
expressions, checked line by line where they are what makes it exact: the business ladder moved
by 7 days' grace with no SMS and the call by the account manager, VIP grace on top and a manual
review instead of the legal warning, 2% within 10 days after the due date, settlement approval
by balance per currency, and risk in the priority (riskier first)."""
from __future__ import annotations

import pytest

from arrears.engine.decisions.core import decide
from arrears.engine.policy.compiler import compile_policy
from tests.core_factories import NOW, days_ago, ev, make_account
from tests.policy_cases import problems_of

BRIEF = """
metadata: {name: brief, version: "1", default_timezone: Europe/London, default_language: en}
aging:
  buckets:
    - {name: current, max_days: 0}
    - {name: "1-15", min_days: 1, max_days: 15}
    - {name: "16-45", min_days: 16, max_days: 45}
    - {name: "46-90", min_days: 46, max_days: 90}
    - {name: "90+", min_days: 91}
segments:
  consumer: {when: {fact: debtor_type, eq: consumer}}
  business: {when: {fact: debtor_type, eq: business}}
  vip: {when: {fact: tags, contains: vip}}
  uk_business: {when: {all: [{segment: business}, {fact: country, eq: GB}]}}
priority:
  factors:
    balance: {weight: 40, scale: log, cap: "50000.00"}
    days_past_due: {weight: 30, cap: 180}
    risk: {weight: 15}
    relationship_value: {weight: -10, tiers: {strategic: 1.0}}
channels:
  email: {kind: email}
  sms: {kind: sms}
  letter: {kind: letter}
  call: {kind: call}
  agency: {kind: webhook}
  review: {kind: task}
templates:
  pre_due: {languages: [en]}
  friendly: {languages: [en]}
  firm: {languages: [en]}
  call_script: {languages: [en], audience: internal}
  formal_notice: {languages: [en]}
  legal_warning: {languages: [en]}
  legal_review: {languages: [en], audience: internal}
  agency_referral: {languages: [en], audience: internal}
  write_off_review: {languages: [en], audience: internal}
escalation:
  stages:
    - {id: pre_due, days_past_due: -3, action: reminder, channels: [email], template: pre_due}
    - id: friendly
      days_past_due: 3
      action: reminder
      channels: [email, sms]
      template: friendly
      variants:
        - {segments: [business], channels: [email]}
    - {id: firm, days_past_due: 14, action: notice, channels: [email, letter], template: firm}
    - id: call
      days_past_due: 30
      action: call
      channels: [call]
      template: call_script
      max_attempts: 3
      repeat_every_days: 2
      when: {fact: balance, gt: "250.00"}
      assign_to: account_manager
    - {id: formal_notice, days_past_due: 45, action: formal_notice, channels: [letter], template: formal_notice,
       required: true}
    - id: legal_warning
      days_past_due: 75
      action: legal_warning
      channels: [letter]
      template: legal_warning
      variants:
        - {segments: [vip], channels: [review], template: legal_review}
    - {id: agency, days_past_due: 100, action: refer_to_agency, channels: [agency], template: agency_referral,
       when: {fact: balance, gt: "1000.00"}}
    - {id: write_off_review, days_past_due: 180, action: write_off, channels: [review], template: write_off_review}
grace:
  default_days: 0
  segments: {business: 7, vip: {days: 14, adds: true}}
  shift_ladder: true
pauses:
  dispute: {scope: invoice}
  promise_to_pay: {broken_resume_stage: firm}
incentives:
  early_payment_discount: {percent: 2, window_days: 0, days_after_due: 10, when: {segment: consumer}}
  settlement:
    discount_percent: 30
    floor: "500.00"
    min_days_past_due: 120
    approval: {balance_above: {GBP: "10000.00", USD: "10000.00"}}
fees:
  late_fee:
    when: {segment: uk_business}
    fixed_by_amount: [{below: "1000.00", amount: "40.00"}, {below: "10000.00", amount: "70.00"}, {amount: "100.00"}]
  interest: {when: {segment: uk_business}, reference_rate_percent: 4.0, margin_percent: 8.0}
"""


@pytest.fixture(scope="module")
def policy():
    import yaml
    assert problems_of(BRIEF) == []
    return compile_policy(yaml.safe_load(BRIEF))


def first_day(policy, stage: str, **account) -> int:
    """The first days past due at which `stage` is the step, every stage before it done."""
    ids = [s.id for s in policy.stages]
    for dpd in range(-5, 200):
        done = [ev("contact_attempt", f"{days_ago(dpd + 40)}T10:00:00Z", channel="letter", outcome="sent", stage=s)
                for s in ids[1:ids.index(stage)]]
        d = decide(make_account(due_date=days_ago(dpd), amount="2000.00", **account), done, policy, NOW)
        if d.action is not None and d.action.stage == stage:
            return dpd
    raise AssertionError(stage)


@pytest.mark.parametrize("account, shift", [({}, 0), ({"debtor_type": "business"}, 7), ({"tags": ["vip"]}, 14),
                                            ({"debtor_type": "business", "tags": ["vip"]}, 21)])
def test_the_ladder_moves_by_the_grace_that_adds_up(policy, account, shift):
    for stage, days in (("friendly", 3), ("firm", 14), ("call", 30), ("formal_notice", 45)):
        assert first_day(policy, stage, **account) == days + shift, stage


def test_no_sms_for_businesses_and_the_managers_call(policy):
    mobile = {"mobile": "+447700900000", "email": "a@example.com"}
    consumer = decide(make_account(due_date=days_ago(3), contact={"mobile": "+447700900000"}), [], policy, NOW)
    business = decide(make_account(due_date=days_ago(10), contact=mobile, debtor_type="business"), [], policy, NOW)
    assert (consumer.action.stage, consumer.action.channel) == ("friendly", "sms")
    assert (business.action.stage, business.action.channel) == ("friendly", "email")
    done = [ev("contact_attempt", f"{days_ago(20)}T10:00:00Z", channel="email", outcome="sent", stage=s)
            for s in ("friendly", "firm")]
    managed = decide(make_account(due_date=days_ago(37), amount="800.00", debtor_type="business",
                                  account_manager="Priya Shah"), done, policy, NOW)
    assert (managed.action.stage, managed.action.assignee) == ("call", "Priya Shah")


def test_vips_get_a_review_instead_of_the_legal_warning(policy):
    done = [ev("contact_attempt", f"{days_ago(d)}T10:00:00Z", channel="letter", outcome="sent", stage=s)
            for d, s in ((60, "friendly"), (50, "firm"), (40, "call"), (30, "formal_notice"))]
    vip = decide(make_account(due_date=days_ago(90), tags=["vip"]), done, policy, NOW)
    other = decide(make_account(due_date=days_ago(90)), done, policy, NOW)
    assert (vip.action.stage, vip.action.channel, vip.action.template) == ("legal_warning", "review", "legal_review")
    assert (other.action.stage, other.action.channel, other.action.template) == (
        "legal_warning", "letter", "legal_warning")


def test_incentives_and_priority(policy):
    prompt = decide(make_account(due_date=days_ago(10), amount="1000.00", currency="GBP"), [], policy, NOW)
    assert [(o.kind, str(o.discount.amount)) for o in prompt.offers] == [("early_payment_discount", "20.00")]
    big = decide(make_account(due_date=days_ago(130), amount="12000.00", currency="GBP"), [], policy, NOW)
    (settle,) = big.offers
    assert (str(settle.amount.amount), settle.approval_reasons) == (
        "8400.00", ("balance 12000.00 GBP is above 10000.00 GBP",))
    risky, safe = (decide(make_account(due_date=days_ago(20), risk_score=r), [], policy, NOW) for r in (0.9, 0.1))
    assert risky.priority.score > safe.priority.score
