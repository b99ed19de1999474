"""Routing by account manager (issue 13): a stage with `assign_to: account_manager` assigns
its call or task to the account's manager when it has one (the action's `assignee`), the
general queue otherwise; the fact `account_manager` (`exists: true`) says whether one is set."""
from __future__ import annotations

import pytest

from arrears.engine.decisions.core import decide
from arrears.engine.decisions.explain import render_text
from arrears.engine.policy.compiler import compile_policy
from tests.core_factories import NOW, days_ago, ev, make_account, policy_doc_without_house_hours
from tests.policy_cases import assert_batch_agrees, assert_located, position, problems_of, shipped_with

DONE = [ev("contact_attempt", f"{days_ago(d)}T10:00:00Z", channel="email", outcome="sent", stage=s)
        for d, s in ((30, "friendly_reminder"), (20, "firm_reminder"))]


def routed_doc() -> dict:
    doc = policy_doc_without_house_hours()
    call = next(s for s in doc["escalation"]["stages"] if s["id"] == "personal_call")
    call["assign_to"] = "account_manager"
    return doc


@pytest.fixture(scope="module")
def policy():
    return compile_policy(routed_doc())


def call_due(**extra):
    return make_account(due_date=days_ago(35), amount="2000.00", **extra)


def trace_of(d) -> dict:
    return {t.step: (t.outcome, t.detail) for t in d.trace}


def test_the_call_goes_to_the_account_manager(policy):
    d = decide(call_due(account_manager="Priya Shah"), DONE, policy, NOW)
    assert (d.action.stage, d.action.channel, d.action.assignee) == ("personal_call", "call", "Priya Shah")
    assert d.action.to_dict()["assignee"] == "Priya Shah"
    assert trace_of(d)["assignee"] == ("Priya Shah", "the stage goes to the account manager")
    assert "Assigned to the account manager: Priya Shah." in render_text(d)


def test_without_a_manager_the_call_stays_in_the_general_queue(policy):
    d = decide(call_due(), DONE, policy, NOW)
    assert d.action.channel == "call" and d.action.assignee is None
    assert "assignee" not in d.action.to_dict()
    assert trace_of(d)["assignee"] == ("general queue", "the stage goes to the account manager; the account has none")


def test_a_written_fallback_is_not_assigned(policy):
    no_phone = {"email": "debtor@example.com", "address": "1 High Street"}
    d = decide(call_due(account_manager="Priya Shah", contact=no_phone), DONE, policy, NOW)
    assert d.action.channel == "email" and d.action.assignee is None
    assert trace_of(d)["assignee"] == ("none", "email is a email channel: no one works it by hand")


def test_a_stage_without_assign_to_assigns_no_one():
    d = decide(call_due(account_manager="Priya Shah"), DONE, compile_policy(policy_doc_without_house_hours()), NOW)
    assert d.action.account_manager == "Priya Shah" and d.action.assignee is None
    assert "assignee" not in trace_of(d)


def test_the_fact_says_whether_an_account_has_a_manager():
    doc = routed_doc()
    doc["segments"]["managed"] = {"when": {"fact": "account_manager", "exists": True}}
    p = compile_policy(doc)
    assert decide(call_due(account_manager="Priya Shah"), DONE, p, NOW).segments[-1] == "managed"
    assert "managed" not in decide(call_due(), DONE, p, NOW).segments


def test_batch_and_single_account_decisions_agree(policy):
    accounts = [call_due(id=f"A{i}", **extra) for i, extra in enumerate(
        [{"account_manager": "Priya Shah"}, {}, {"account_manager": "Sam Okoye"},
         {"account_manager": "Priya Shah", "contact": {"email": "a@b.c"}}])]
    assert_batch_agrees(policy, accounts, [DONE for _ in accounts])


def test_assign_to_needs_a_channel_a_person_works():
    old = "      template: firm_reminder\n      tone: firm\n"
    text = shipped_with(old, old + "      assign_to: account_manager\n")
    assert problems_of(text) == [(*position(text, "account_manager\n", after="assign_to"),
                                  "stage 'firm_reminder' is assigned to the account manager but has no call "
                                  "or task channel: only a call or a task is worked by a person")]
    call = "      template: {call: call_script, written: firm_reminder}\n"
    bad = shipped_with(call, call + "      assign_to: manager\n")
    assert_located(bad, "manager\n", "'manager' is not allowed; expected one of: account_manager", after="assign_to")
