"""Grace that moves the whole ladder (`grace.shift_ladder`) and grace that adds up across
segments (`{days, adds: true}`) (issue 13, "say what is meant"): stage thresholds, the grace
suppression and its end, the trace's words, validation, and batch and single decisions agreeing."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from arrears.engine.decisions.core import decide
from arrears.engine.policy.compiler import compile_policy
from tests.core_factories import NOW, days_ago, ev, make_account, policy_doc_without_house_hours
from tests.policy_cases import assert_batch_agrees, assert_located, problems_of, shipped_with


def brief_doc(shift: bool = True) -> dict:
    """The brief's grace: none for consumers, 7 days for businesses, 14 more for VIPs on top."""
    doc = policy_doc_without_house_hours()
    doc["grace"] = {"default_days": 0, "segments": {"business": 7, "vip": {"days": 14, "adds": True}},
                    "shift_ladder": shift}
    return doc


@pytest.fixture(scope="module")
def policy():
    return compile_policy(brief_doc())


def trace_of(decision) -> dict:
    return {t.step: (t.outcome, t.detail) for t in decision.trace}


def first_due(policy, stage: str, **account) -> int:
    """The first days-past-due at which `stage` is the account's step (its previous stages done)."""
    order = [s.id for s in policy.stages]
    for dpd in range(-5, 200):
        done = order[1:order.index(stage)]
        history = [ev("contact_attempt", f"{days_ago(dpd + 40)}T10:00:00Z", channel="letter", outcome="sent",
                      stage=s) for s in done]
        d = decide(make_account(due_date=days_ago(dpd), **account), history, policy, NOW)
        if d.action is not None and d.action.stage == stage:
            return dpd
    raise AssertionError(f"{stage} never became due")


@pytest.mark.parametrize("account, grace", [
    ({}, 0), ({"debtor_type": "business"}, 7), ({"tags": ["vip"]}, 14),
    ({"debtor_type": "business", "tags": ["vip"]}, 21),
])
def test_every_post_due_stage_moves_by_the_grace_that_adds_up(policy, account, grace):
    assert first_due(policy, "friendly_reminder", **account) == 1 + grace
    assert first_due(policy, "firm_reminder", **account) == 15 + grace
    assert first_due(policy, "formal_notice", **account) == 45 + grace


def test_a_pre_due_stage_never_moves(policy):
    d = decide(make_account(due_date=days_ago(-3), debtor_type="business"), [], policy, NOW)
    assert d.action.stage == "pre_due_reminder"


def test_holding_grace_keeps_later_stages_where_they_are():
    hold = compile_policy(brief_doc(shift=False))
    assert first_due(hold, "friendly_reminder", debtor_type="business") == 8
    assert first_due(hold, "firm_reminder", debtor_type="business") == 15


def test_the_grace_suppression_ends_when_the_moved_stage_falls_due(policy):
    d = decide(make_account(due_date=days_ago(5), debtor_type="business"), [], policy, NOW)
    assert d.action is None
    (s,) = d.suppressions
    assert (s.rule, s.reason) == ("grace", "7 grace days (segment business 7) move the ladder later: the next "
                                           "stage falls due then")
    assert s.until == datetime(2026, 11, 25, tzinfo=timezone.utc)      # 8 days after the due date 11-17
    assert trace_of(d)["stage friendly_reminder"] == (
        "not yet due", "needs 8 days past due (grace 7 days moves it from 1); is 5")


def test_holding_grace_is_worded_as_before():
    d = decide(make_account(due_date=days_ago(5), debtor_type="business"), [], compile_policy(brief_doc(False)),
               NOW)
    (s,) = d.suppressions
    assert (s.rule, s.reason) == ("grace", "within 7 grace days (segment business 7) after the due date")
    assert s.until == datetime(2026, 11, 25, tzinfo=timezone.utc)
    assert trace_of(d)["stage friendly_reminder"] == (
        "not yet due", "needs 8 days past due (grace 7 days holds it back from 1); is 5")


def test_without_adds_the_largest_grace_wins():
    doc = brief_doc()
    doc["grace"]["segments"]["vip"] = 14
    p = compile_policy(doc)
    assert first_due(p, "friendly_reminder", debtor_type="business", tags=["vip"]) == 15


def test_batch_and_single_account_decisions_agree(policy):
    cases = [make_account(id=f"A{i}", due_date=days_ago(dpd), **acc) for i, (dpd, acc) in enumerate(
        [(5, {"debtor_type": "business"}), (8, {"debtor_type": "business"}), (20, {"tags": ["vip"]}),
         (22, {"debtor_type": "business", "tags": ["vip"]}), (2, {}), (-3, {"debtor_type": "business"})])]
    assert_batch_agrees(policy, cases)


def _grace(replacement: str) -> str:
    return shipped_with("  segments: {vip: 10, business: 5}\n", replacement)


def test_the_new_grace_settings_validate():
    assert problems_of(_grace("  segments: {vip: {days: 10, adds: true}, business: 5}\n  shift_ladder: true\n")) == []


@pytest.mark.parametrize("replacement, fragment, message", [
    ("  segments: {vip: {adds: true}, business: 5}\n", "{adds", "missing required key 'days'"),
    ("  segments: {vip: {days: 10, add: true}, business: 5}\n", "add:", "unknown key 'add'; did you mean 'adds'?"),
    ("  segments: {vipp: {days: 10, adds: true}}\n", "vipp", "unknown segment 'vipp'; did you mean 'vip'?"),
    ("  segments: {vip: 10}\n  shift_ladder: yes please\n", "yes please", "expected true or false"),
])
def test_grace_problems_are_located(replacement, fragment, message):
    assert_located(_grace(replacement), fragment, message)


@pytest.mark.parametrize("debtor_type, tags, words", [
    ("business", ["vip"], "21 grace days (segment business 7 + segment vip 14 (adds up))"),
    ("consumer", ["vip"], "14 grace days (the default 0 + segment vip 14 (adds up))"),
])
def test_the_grace_hold_names_the_segments_that_set_it(policy, debtor_type, tags, words):
    d = decide(make_account(due_date=days_ago(5), debtor_type=debtor_type, tags=tags), [], policy, NOW)
    (s,) = d.suppressions
    assert s.rule == "grace" and s.reason.startswith(words)
