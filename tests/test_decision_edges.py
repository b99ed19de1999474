"""Edges of the decision core that the scenario tests left open (found by the mutation run).

Each test states a case just outside a rule's reach under the shipped policy (or a small
variant of it), with the expected step or amount worked out by hand.
"""
from __future__ import annotations

from datetime import datetime, time, timezone
from decimal import Decimal

import yaml

from arrears.engine import decide, load_policy
from arrears.engine.policy.compiler import compile_policy
from tests.core_factories import NOW, days_ago, default_policy_doc, ev, make_account


def at(day, hour=10):
    return datetime.combine(day, time(hour), timezone.utc)


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
