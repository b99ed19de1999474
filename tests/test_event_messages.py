"""Event-triggered messages under the shipped policy (its `event_messages`): a thank-you for a
payment, an acknowledgement of a promise, a confirmation of a plan, a reminder before an
instalment; once per triggering event, through the guardrails, held back by stop states only
(docs/policy-guide.md, "Event-triggered messages"; engine/decisions/messages.py)."""
from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from arrears.engine.decisions.core import decide, decide_batch
from arrears.engine.domain.batch import Batch
from arrears.engine.policy.load import load_policy
from arrears.engine.tick.columns import payloads, summarise
from tests.core_factories import NOW, POLICY_PATH, ev, make_account

PAID = ev("payment", "2026-11-22T09:00:00Z", amount="100.00")


@pytest.fixture(scope="module")
def policy(policy_doc):
    """The shipped policy without its house contact hours (NOW is a Sunday afternoon, when they
    contact no one; tests/test_contact_hours.py has their tests). The guardrail test below
    loads the whole shipped policy, profiles and house hours included."""
    from arrears.engine.policy.compiler import compile_policy
    doc = copy.deepcopy(policy_doc)
    doc["compliance"].pop("contact_hours", None)
    return compile_policy(doc)


def thanked(at="2026-11-22T15:00:00Z", outcome="sent"):
    return ev("contact_attempt", at, channel="email", outcome=outcome, stage="payment_thanks")


def step(d):
    a = d.action
    return None if a is None else (a.stage, a.type, a.attempt, a.channel, a.reason)


def trace_of(d) -> dict:
    return {t.step: (t.outcome, t.detail) for t in d.trace}


def test_a_payment_is_thanked_once(policy):
    acc = make_account(due_date="2026-11-10")
    d = decide(acc, [PAID], policy, NOW)
    assert step(d) == ("payment_thanks", "acknowledgement", 1, "email", "payment received")
    assert d.action.template == "payment_thanks" and d.action.not_before == NOW
    outcome, detail = trace_of(d)["event message"]
    assert outcome == "step payment_thanks" and "a payment arrived at 2026-11-22T09:00:00Z" in detail
    # once it is recorded (whatever its outcome), escalation has the account again
    for outcome in ("sent", "failed"):
        d = decide(acc, [PAID, thanked(outcome=outcome)], policy, NOW + timedelta(minutes=5))
        assert d.action.stage == "friendly_reminder"
    # a later payment is thanked again
    again = [PAID, thanked(), ev("payment", "2026-11-22T16:00:00Z", amount="50.00")]
    d = decide(acc, again, policy, NOW + timedelta(hours=2))
    assert step(d) == ("payment_thanks", "acknowledgement", 1, "email", "payment received")


def test_an_old_payment_is_not_thanked(policy):
    old = ev("payment", "2026-11-20T09:00:00Z", amount="100.00")       # more than 2 days ago
    d = decide(make_account(due_date="2026-11-10"), [old], policy, NOW)
    assert d.action.stage == "friendly_reminder"


def test_paid_in_full_is_thanked_too(policy):
    d = decide(make_account(due_date="2026-11-10"), [ev("payment", "2026-11-22T09:00:00Z", amount="1000.00")],
               policy, NOW)
    assert d.balance.amount == 0 and d.action.stage == "payment_thanks"


def test_each_payment_has_its_own_act_once_key(policy):
    acc = make_account(due_date="2026-11-10")
    db = decide_batch(Batch.from_objects([acc], [[PAID]]), policy, NOW)
    cols = summarise(db)
    (key,), (body,) = payloads(db, cols, np.array([0]), 0)
    assert key == cols.episode_key(db, 0) == "payment@20261122T090000Z"
    assert cols.keys[0] == "payment_thanks|acknowledgement|email|1|"
    assert '"stage":"payment_thanks"' in body


def test_a_promise_is_acknowledged_while_it_pauses_escalation(policy):
    promise = ev("promise_to_pay", "2026-11-22T10:00:00Z", amount="1000.00", until="2026-11-30")
    d = decide(make_account(due_date="2026-11-01"), [promise], policy, NOW)
    assert step(d) == ("promise_acknowledgement", "acknowledgement", 1, "email", "promise received")
    assert [s.rule for s in d.suppressions] == ["pause.promise_to_pay"]
    d = decide(make_account(due_date="2026-11-01"),
               [promise, ev("contact_attempt", "2026-11-22T15:00:00Z", channel="email", outcome="sent",
                            stage="promise_acknowledgement")], policy, NOW + timedelta(minutes=1))
    assert d.action is None and [s.rule for s in d.suppressions] == ["pause.promise_to_pay"]


PLAN = ev("payment_plan", "2026-11-22T10:00:00Z",
          instalments=[{"due_date": "2026-12-01", "amount": "500.00"},
                       {"due_date": "2027-01-01", "amount": "500.00"}])


def test_a_plan_is_confirmed_then_each_instalment_reminded(policy):
    acc = make_account(due_date="2026-11-01")
    d = decide(acc, [PLAN], policy, NOW)
    assert step(d) == ("plan_confirmation", "confirmation", 1, "email", "plan agreed")
    confirmed = [PLAN, ev("contact_attempt", "2026-11-22T15:00:00Z", channel="email", outcome="sent",
                          stage="plan_confirmation")]
    d = decide(acc, confirmed, policy, NOW + timedelta(minutes=1))
    assert d.action is None and [s.rule for s in d.suppressions] == ["pause.payment_plan"]
    # looked at again when the reminder's first day (3 days before 2026-12-01) begins
    assert d.next_evaluation_at == datetime(2026, 11, 28, tzinfo=timezone.utc)
    d = decide(acc, confirmed, policy, datetime(2026, 11, 28, 10, tzinfo=timezone.utc))
    assert step(d) == ("instalment_reminder", "reminder", 1, "email", "instalment due soon")
    assert "the next plan instalment is 2026-12-01" in trace_of(d)["event message"][1]
    reminded = confirmed + [ev("contact_attempt", "2026-11-28T10:00:00Z", channel="email", outcome="sent",
                               stage="instalment_reminder")]
    d = decide(acc, reminded, policy, datetime(2026, 11, 29, 10, tzinfo=timezone.utc))
    assert d.action is None
    # paid: the next instalment (2027-01-01) is reminded in its turn, under its own key
    paid = reminded + [ev("payment", "2026-11-30T10:00:00Z", amount="500.00"),
                       ev("contact_attempt", "2026-11-30T11:00:00Z", channel="email", outcome="sent",
                          stage="payment_thanks")]
    later = datetime(2026, 12, 29, 10, tzinfo=timezone.utc)
    d = decide(acc, paid, policy, later)
    assert step(d) == ("instalment_reminder", "reminder", 1, "email", "instalment due soon")
    db = decide_batch(Batch.from_objects([acc], [paid]), policy, later)
    assert db.episode_key(0) == "instalment_due@2027-01-01"


def test_stop_states_hold_messages_back(policy):
    ceased = ev("cease_communication", "2026-11-01T09:00:00Z")
    d = decide(make_account(due_date="2026-11-10"), [ceased, PAID], policy, NOW)
    assert d.action is None and "stop.cease_communication" in [s.rule for s in d.suppressions]


def test_guardrails_time_messages_like_any_contact():
    # 22:30 on a Sunday in Sydney: the thank-you email waits for Monday morning, when both the
    # profile's email window (07:30) and the shipped house hours for consumers (08:00) are open
    night = datetime(2026, 11, 22, 11, 30, tzinfo=timezone.utc)
    acc = make_account(due_date="2026-11-10", jurisdiction="AU-NSW", timezone="Australia/Sydney")
    d = decide(acc, [PAID], load_policy(POLICY_PATH), night)
    assert d.action.stage == "payment_thanks"
    assert d.action.not_before == datetime(2026, 11, 22, 21, 0, tzinfo=timezone.utc)
    assert {"au.email-hours", "house.consumer"} <= {s.rule for s in d.suppressions}


def test_no_reachable_channel_leaves_escalation_alone(policy):
    acc = make_account(due_date="2026-11-10", contact={"address": "1 High St"})     # letters only
    d = decide(acc, [PAID], policy, NOW)
    assert d.action.stage == "friendly_reminder" and d.action.channel == "letter"


@pytest.mark.parametrize("change, message", [
    ({"trigger": "instalment_due"}, "a instalment_due message needs days_before"),
    ({"days_before": 2}, "days_before is for instalment_due and promise_due messages, not payment"),
    ({"id": "friendly_reminder"}, "message id 'friendly_reminder' is already used by a stage"),
    ({"channels": ["emial"]}, "unknown channel 'emial'"),
    ({"trigger": "refund"}, "refund"),
])
def test_event_messages_are_validated_with_positions(tmp_path, policy_doc, change, message):
    import yaml
    doc = copy.deepcopy(policy_doc)
    doc["event_messages"][0].update(change)
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    from arrears.engine.domain.errors import PolicyError
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    text = str(err.value)
    assert message in text and f"{path}:" in text


def test_a_promised_date_is_reminded(policy_doc):
    from arrears.engine.policy.compiler import compile_policy
    doc = copy.deepcopy(policy_doc)
    doc["event_messages"].append({"id": "promise_reminder", "trigger": "promise_due", "days_before": 2,
                                  "channels": ["email"], "template": "promise_acknowledgement"})
    custom = compile_policy(doc)
    promise = ev("promise_to_pay", "2026-11-22T10:00:00Z", amount="1000.00", until="2026-11-30")
    acked = [promise, ev("contact_attempt", "2026-11-22T15:00:00Z", channel="email", outcome="sent",
                         stage="promise_acknowledgement")]
    acc = make_account(due_date="2026-11-01")
    d = decide(acc, acked, custom, NOW + timedelta(minutes=1))
    assert d.action is None and d.next_evaluation_at == datetime(2026, 11, 28, tzinfo=timezone.utc)
    d = decide(acc, acked, custom, datetime(2026, 11, 28, 9, tzinfo=timezone.utc))
    assert step(d) == ("promise_reminder", "reminder", 1, "email", "promised date soon")
    # kept early: no promise pending, no reminder
    paid = acked + [ev("payment", "2026-11-25T09:00:00Z", amount="1000.00"),
                    ev("contact_attempt", "2026-11-25T10:00:00Z", channel="email", outcome="sent",
                       stage="payment_thanks")]
    d = decide(acc, paid, custom, datetime(2026, 11, 28, 9, tzinfo=timezone.utc))
    assert d.action is None


def test_a_message_no_channel_may_carry_gives_the_step_back_to_escalation():
    # Saturday 21:00 in Melbourne, Australia Day weekend: the thank-you could go only by SMS, and
    # SMS is closed until Tuesday morning; the friendly reminder's letter may go now
    acc = make_account(jurisdiction="AU-VIC", timezone="Australia/Melbourne", currency="AUD",
                       contact={"mobile": "+61400000000", "address": "1 Main St"},
                       invoices=[{"id": "I1", "amount": "900.00", "due_date": "2025-01-20"}])
    now = datetime(2025, 1, 25, 10, 0, tzinfo=timezone.utc)
    policy = load_policy(POLICY_PATH)
    d = decide(acc, [ev("payment", "2025-01-25T09:00:00Z", amount="100.00")], policy, now)
    assert step(d) == ("friendly_reminder", "reminder", 1, "letter", "next stage")
    assert d.action.not_before == now
    db = decide_batch(Batch.from_objects([acc], [[ev("payment", "2025-01-25T09:00:00Z", amount="100.00")]]),
                      policy, now)
    assert summarise(db).keys[0].startswith("friendly_reminder|reminder|letter|1|")
    assert db.episode_key(0) == "2025-01-20"
