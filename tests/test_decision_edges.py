"""Edges of the decision core that the scenario tests left open (found by the mutation run).

Each test states a case just outside a rule's reach under the shipped policy (or a small
variant of it), with the expected step or amount worked out by hand.
"""
from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal

import yaml

from arrears.engine import decide, load_policy
from arrears.engine.policy.compiler import compile_policy
from tests.core_factories import NOW, days_ago, default_policy_doc, ev, make_account


def at(day, hour=10):
    return datetime.combine(day, time(hour), UTC)


def sent(stage, ago, channel="email"):
    return ev("contact_attempt", at(days_ago(ago)), channel=channel, outcome="sent", stage=stage)


def test_a_due_date_stage_is_not_delayed_by_grace():
    """Grace delays stages *after* the due date; a stage at day 0 goes out on the due date itself."""
    doc = default_policy_doc()
    doc["escalation"]["stages"][0]["days_past_due"] = 0          # the pre-due reminder, on the day
    d = decide(make_account(due_date=days_ago(0)), [], compile_policy(doc), NOW)
    assert d.days_past_due == 0
    assert (d.action.stage, d.action.reason) == ("pre_due_reminder", "next stage")


def test_a_broken_promise_never_pulls_the_ladder_back():
    """A broken promise resumes at `broken_resume_stage` (firm reminder) only when that is ahead of
    what the calendar already asks for: at 50 days the required formal notice comes first."""
    history = [sent("friendly_reminder", 30),
               ev("promise_to_pay", at(days_ago(25)), amount="1000.00", until=str(days_ago(20)))]
    d = decide(make_account(due_date=days_ago(50)), history, compile_policy(default_policy_doc()), NOW)
    assert (d.action.stage, d.action.attempt) == ("formal_notice", 1)
    assert d.action.reason != "resume after broken promise"


def _fees_for(jurisdiction, tz):
    """Interest and late fees for everyone, so a consumer's fees show; UK forbearance freezes them."""
    doc = default_policy_doc()
    doc["fees"]["late_fee"].pop("when")
    doc["fees"]["interest"].pop("when")
    policy = load_policy(yaml.safe_dump(doc))                     # with the shipped profiles
    account = make_account(amount="2000.00", due_date=days_ago(40), jurisdiction=jurisdiction, timezone=tz)
    return decide(account, [ev("hardship", at(days_ago(2)))], policy, NOW).fees


def test_a_profile_freezes_fees_only_where_it_applies():
    uk = _fees_for("GB", "Europe/London")                         # CONC 7.3.4R: frozen in hardship
    assert (uk.late_fee.amount, uk.interest.amount, uk.frozen) == (0, 0, True)
    fr = _fees_for("FR", "Europe/Paris")                          # no such profile rule in France
    assert fr.frozen is False
    assert fr.late_fee.amount == Decimal("70.00") and fr.interest.amount > 0
    au = _fees_for("AU-NSW", "Australia/Sydney")                  # AU's hardship pause freezes nothing
    assert au.frozen is False and au.interest.amount > 0


def test_a_paid_up_account_reports_no_promise_pause():
    """A promise still open when nothing is owed any more (a credit note cleared the invoice: no
    payment kept the promise) holds nothing back, so the decision lists no `pause.promise_to_pay`
    (nor any other hold)."""
    history = [ev("promise_to_pay", at(days_ago(3)), amount="1000.00", until=str(days_ago(-5))),
               ev("credit_note", at(days_ago(1)), amount="1000.00", invoice_id="I1")]
    d = decide(make_account(amount="1000.00", due_date=days_ago(20)), history,
               compile_policy(default_policy_doc()), NOW)
    assert d.action is None and d.balance.amount == 0
    assert [s.rule for s in d.suppressions] == []


def test_a_balance_factor_without_a_cap_scales_to_ten_thousand():
    """The policy guide's default: without `cap` the balance factor reaches 1 at 10,000.00."""
    doc = default_policy_doc()
    doc["priority"]["factors"] = {"balance": {"weight": 10}}
    policy = compile_policy(doc)
    scores = [decide(make_account(amount=amount, due_date=days_ago(20)), [], policy, NOW).priority.score
              for amount in ("2500.00", "10000.00", "20000.00")]
    assert scores == [25, 100, 100]


def test_recovery_likelihood_looks_back_ninety_and_three_hundred_sixty_five_days():
    """The policy guide's formula: +0.2 if anything was paid in the last 90 days, -0.25 per promise
    broken in the last 365. A payment 90 days ago counts, 91 days ago does not; likewise a promise
    broken within 365 days. Windows are counted back from the evaluation instant (15:00 UTC):
    a payment at 16:00 90 days ago is inside, at 16:00 91 days ago outside. A promise's deadline
    is the start of the day after its date plus 2 days' tolerance, so a promise for 367 days ago
    broke 364 days and 9 hours ago (inside), one for 368 days ago just outside.
    (Unknown risk and on-time ratio count as 0.5: base 0.4.)"""
    doc = default_policy_doc()
    doc["priority"]["factors"] = {"recovery_likelihood": {"weight": 1}}
    policy = compile_policy(doc)
    account = make_account(amount="5000.00", due_date=days_ago(400))

    def score(history):
        return decide(account, history, policy, NOW).priority.score

    assert score([]) == 40.0
    paid = lambda ago: ev("payment", at(days_ago(ago), 16), amount="10.00")
    assert (score([paid(90)]), score([paid(91)])) == (60.0, 40.0)

    def broken(ago):     # promised 10 days before the deadline, which passed `ago` days ago
        return ev("promise_to_pay", at(days_ago(ago + 10)), amount="100.00", until=str(days_ago(ago)))
    assert (score([broken(367)]), score([broken(368)])) == (15.0, 40.0)


def test_a_one_cent_dispute_is_still_a_dispute():
    """Every open invoice disputed, however small (one minor unit): the dispute pause is reported."""
    acc = make_account(amount="0.01", due_date=days_ago(20))
    d = decide(acc, [ev("dispute_opened", at(days_ago(2)), invoice_id="I1", amount="0.01")],
               compile_policy(default_policy_doc()), NOW)
    assert d.action is None
    assert "pause.dispute" in [s.rule for s in d.suppressions]
