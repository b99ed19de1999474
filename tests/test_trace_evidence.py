"""Evidence an auditor asks for, in the decision's trace: a promise to pay shows what was
promised, when and for when, by when it had to be paid, what was paid against it, and its fate."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from arrears.engine.decisions.core import decide
from arrears.engine.decisions.explain import render_text
from arrears.engine.policy.compiler import compile_policy
from tests.core_factories import default_policy_doc, ev, make_account


@pytest.fixture(scope="module")
def policy():
    return compile_policy(default_policy_doc())


def _promise_step(decision):
    steps = [t for t in decision.trace if t.step == "promise to pay"]
    assert len(steps) <= 1
    return steps[0] if steps else None


def _at(day, hour=9):
    return datetime(2026, 11, day, hour, tzinfo=timezone.utc)


HISTORY = [ev("contact_attempt", _at(1), channel="email", outcome="sent", stage="friendly_reminder"),
           ev("promise_to_pay", _at(5), amount="500.00", until="2026-11-12")]


@pytest.mark.parametrize("paid, now_day, outcome, paid_text", [
    ("120.00", 24, "broken", "120.00 EUR paid against it"),
    ("500.00", 24, "kept", "500.00 EUR paid against it"),
    ("120.00", 13, "open", "120.00 EUR paid against it"),
    (None, 13, "open", "0.00 EUR paid against it"),
    (None, 15, "broken", "0.00 EUR paid against it"),
])
def test_a_promise_shows_what_was_promised_and_paid_against_it(policy, paid, now_day, outcome, paid_text):
    events = list(HISTORY)
    if paid:
        events.append(ev("payment", _at(10), amount=paid))
    d = decide(make_account(due_date="2026-10-20"), events, policy, _at(now_day, 10))
    step = _promise_step(d)
    assert step.outcome == outcome
    assert step.detail.startswith("500.00 EUR promised on 2026-11-05 for 2026-11-12; due by the end of "
                                  "2026-11-14 (tolerance 2 days, at most 45 days after the promise); ")
    assert step.detail.endswith(paid_text)
    assert f"Promise to pay: {outcome} — 500.00 EUR promised on 2026-11-05" in render_text(d)


def test_a_payment_after_the_deadline_is_not_counted_against_the_promise(policy):
    events = HISTORY + [ev("payment", _at(20), amount="500.00")]
    step = _promise_step(decide(make_account(due_date="2026-10-20", amount="2000.00"), events, policy,
                                _at(24, 10)))
    assert step.outcome == "broken" and step.detail.endswith("0.00 EUR paid against it")


def test_the_latest_promise_is_the_one_shown(policy):
    events = HISTORY + [ev("promise_to_pay", _at(20), amount="300.00", until="2026-11-30")]
    step = _promise_step(decide(make_account(due_date="2026-10-20"), events, policy, _at(24, 10)))
    assert step.outcome == "open" and step.detail.startswith("300.00 EUR promised on 2026-11-20 for 2026-11-30")


def test_no_promise_no_step(policy):
    d = decide(make_account(due_date="2026-10-20"), HISTORY[:1], policy, _at(24, 10))
    assert _promise_step(d) is None and "Promise to pay" not in render_text(d)


def test_priority_shows_each_factors_inputs_beside_its_contribution(policy):
    account = make_account(due_date="2026-10-20", amount="880.00", risk_score=0.2, on_time_ratio=0.9,
                           relationship_tier="key")
    d = decide(account, HISTORY + [ev("payment", _at(10), amount="120.00")], policy, _at(24, 10))
    factors = {t.step[7:]: t for t in d.trace if t.step.startswith("factor ")}
    assert list(factors) == [name for name, _ in d.priority.contributions]
    for name, value in d.priority.contributions:
        assert factors[name].outcome == f"{value:+.2f}"
    assert factors["balance"].detail.startswith("balance 760.00 EUR, log scale, cap ")
    assert factors["days_past_due"].detail.startswith("35 days past due, cap ")
    assert factors["recovery_likelihood"].detail == (
        "risk score 0.2, on-time ratio 0.9, a payment in the last 90 days, 1 promise broken in a year")
    assert factors["relationship_value"].detail.startswith("tier key: value ")
    text = render_text(d)
    assert "risk score 0.2, on-time ratio 0.9" in text.split("DECISION")[0]


def test_unknown_scores_say_what_they_count_as(policy):
    d = decide(make_account(due_date="2026-10-20"), [], policy, _at(24, 10))
    detail = next(t.detail for t in d.trace if t.step == "factor recovery_likelihood")
    assert detail == ("risk score unknown (counts 0.5), on-time ratio unknown (counts 0.5), "
                      "no payment in the last 90 days, 0 promises broken in a year")


def _line_of(path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line)


def test_each_trace_step_points_at_the_policy_line_it_came_from():
    from arrears.engine.policy.load import load_policy
    from tests.core_factories import POLICY_PATH
    policy = load_policy(POLICY_PATH)
    d = decide(make_account(due_date="2026-10-20"), HISTORY, policy, _at(24, 10))
    source = {t.step: t.source for t in d.trace}
    name = str(POLICY_PATH)
    assert source["segment vip"] == f"{name}:{_line_of(POLICY_PATH, '  vip:')}:3"
    assert source["stage firm_reminder"] == f"{name}:{_line_of(POLICY_PATH, '- id: firm_reminder')}:7"
    assert source["factor balance"].startswith(f"{name}:{_line_of(POLICY_PATH, '    balance: {')}:")
    assert source["offer settlement"] == f"{name}:{_line_of(POLICY_PATH, '  settlement:')}:3"
    assert source["check pause.promise_to_pay"] == source["promise to pay"] \
        == f"{name}:{_line_of(POLICY_PATH, '  promise_to_pay:')}:3"
    assert source["check house.consumer"].startswith(f"{name}:")
    # the engine's own steps and the law's rules are not the policy's lines
    assert source["facts"] == source["check stop.deceased"] == source["next evaluation"] == ""
    assert all(t.to_dict()["source"] == t.source for t in d.trace)


def test_a_policy_compiled_from_a_bare_document_has_no_sources(policy):
    d = decide(make_account(due_date="2026-10-20"), HISTORY, policy, _at(24, 10))
    assert {t.source for t in d.trace} == {""}
