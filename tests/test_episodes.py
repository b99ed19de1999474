"""Collection episodes under the default policy: when the invoices that earned a stage are paid,
the next overdue invoice starts at the bottom of the ladder with fresh attempt numbers
(docs/policy-guide.md, "The escalation rules"; engine/facts/episodes.py)."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import copy

import numpy as np
import pytest

from arrears.engine.decisions.core import decide, decide_batch
from arrears.engine.domain.batch import Batch
from arrears.engine.tick.columns import payloads, summarise
from arrears.engine.policy.compiler import compile_policy
from tests.core_factories import NOW, days_ago, ev, make_account


@pytest.fixture(scope="module")
def policy(policy_doc):
    """The shipped policy without its event messages: the thank-you a payment earns is
    tests/test_event_messages.py's business; here the ladder is."""
    doc = copy.deepcopy(policy_doc)
    doc.pop("event_messages", None)
    doc["compliance"].pop("contact_hours", None)     # NOW is a Sunday: tests/test_contact_hours.py
    return compile_policy(doc)

TWO = [{"id": "I1", "amount": "1000.00", "due_date": str(days_ago(40))},
       {"id": "I2", "amount": "600.00", "due_date": str(days_ago(12))}]


def at(ago, hour=10):
    return datetime.combine(days_ago(ago), time(hour), timezone.utc)


def sent(stage, ago, channel="email", outcome="sent", hour=10):
    return ev("contact_attempt", at(ago, hour), channel=channel, outcome=outcome, stage=stage)


# I1's ladder so far: everything up to its second personal call (I2 fell due 12 days ago).
LADDER = [sent("pre_due_reminder", 43), sent("friendly_reminder", 36), sent("friendly_reminder", 29),
          sent("firm_reminder", 24), sent("firm_reminder", 17), sent("personal_call", 10, "call"),
          sent("personal_call", 7, "call")]


def step(d):
    a = d.action
    return None if a is None else (a.stage, a.attempt, a.reason)


def key(policy, account, history, now=NOW) -> str:
    """The episode key the tick gives the account's contact (engine/tick/columns.py)."""
    db = decide_batch(Batch.from_objects([account], [history]), policy, now)
    return summarise(db).episode_key(db, 0)


def test_before_the_payment_the_ladder_goes_on(policy):
    d = decide(make_account(invoices=TWO), LADDER, policy, NOW)
    assert step(d) == ("personal_call", 3, "repeat")
    assert key(policy, make_account(invoices=TWO), LADDER) == str(days_ago(40))


def test_paying_the_invoice_that_earned_the_stage_starts_a_new_episode(policy):
    paid = LADDER + [ev("payment", at(0, 9), amount="1000.00", invoice_id="I1")]
    d = decide(make_account(invoices=TWO), paid, policy, NOW)
    # I2 is 12 days late: a friendly reminder, attempt 1, not a third personal call
    assert step(d) == ("friendly_reminder", 1, "next stage")
    assert d.stage == "friendly_reminder" and d.days_past_due == 12
    trace = {t.step: t.outcome for t in d.trace}
    assert trace["stage personal_call"] == "not yet due" and trace["stage firm_reminder"] == "not yet due"
    # the episode is I2's, begun by the payment: its key says so
    assert key(policy, make_account(invoices=TWO), paid) == f"{days_ago(12)}@{days_ago(0):%Y%m%d}T090000Z"


def test_an_unallocated_payment_that_covers_the_older_invoice_starts_it_too(policy):
    # 700 then 300 without an invoice: the pool pays I1 off with the second one
    paid = LADDER + [ev("payment", at(3), amount="700.00"), ev("payment", at(0, 9), amount="300.00")]
    d = decide(make_account(invoices=TWO), paid, policy, NOW)
    assert step(d) == ("friendly_reminder", 1, "next stage")
    assert key(policy, make_account(invoices=TWO), paid).endswith("T090000Z")


def test_a_partial_payment_does_not(policy):
    paid = LADDER + [ev("payment", at(0, 9), amount="999.99", invoice_id="I1")]
    d = decide(make_account(invoices=TWO), paid, policy, NOW)
    assert step(d) == ("personal_call", 3, "repeat")


def test_a_contact_at_the_instant_of_the_payment_belongs_to_the_new_episode(policy):
    """A decision made at the payment's instant already knew of it (the store and the replay include
    events at `now`), so its contact was about what was still owed: it is the new episode's. Counting
    it in the old one sent a second formal notice a week later (found by the end-to-end replay)."""
    history = LADDER + [ev("payment", at(0, 9), amount="1000.00", invoice_id="I1"),
                        sent("friendly_reminder", 0, hour=9)]
    d = decide(make_account(invoices=TWO), history, policy, NOW)
    assert step(d) == ("friendly_reminder", 2, "repeat")
    assert d.action.not_before == datetime.combine(days_ago(-7), time(0), timezone.utc)   # weekly
    # one second earlier it was about I1, the old episode's: I2 still needs its first reminder
    earlier = history[:-1] + [ev("contact_attempt", at(0, 9) - timedelta(seconds=1), channel="email",
                                 outcome="sent", stage="friendly_reminder")]
    d = decide(make_account(invoices=TWO), earlier, policy, NOW)
    assert step(d) == ("friendly_reminder", 1, "next stage") and d.action.not_before == NOW


def test_the_new_episode_waits_the_spacing_after_the_last_contact(policy):
    # I2 is 20 days late (firm_reminder is due, min_days_since_previous 5); I1's last contact was
    # yesterday: the firm reminder waits until 5 days after it
    invoices = [dict(TWO[0]), dict(TWO[1], due_date=str(days_ago(20)))]
    history = LADDER[:-1] + [sent("personal_call", 1, "call"),
                             ev("payment", at(0, 9), amount="1000.00", invoice_id="I1")]
    d = decide(make_account(invoices=invoices), history, policy, NOW)
    assert step(d) == ("firm_reminder", 1, "next stage")
    assert d.action.not_before == datetime.combine(days_ago(1 - 5), time(0), timezone.utc)


def test_an_older_invoice_going_into_dispute_starts_a_new_episode(policy):
    history = LADDER + [ev("dispute_opened", at(0, 8), invoice_id="I1")]
    d = decide(make_account(invoices=TWO), history, policy, NOW)
    assert step(d) == ("friendly_reminder", 1, "next stage")
    # resolved: I1 is back in collection, and its own episode with it
    history += [ev("dispute_resolved", at(0, 11), invoice_id="I1")]
    d = decide(make_account(invoices=TWO), history, policy, NOW)
    assert d.stage == "personal_call"


def test_paid_in_full_then_a_new_invoice_later_starts_at_the_bottom(policy):
    invoices = [dict(TWO[0]), {"id": "I3", "amount": "600.00", "due_date": str(days_ago(-3))}]
    history = LADDER + [ev("payment", at(5), amount="1000.00", invoice_id="I1")]
    d = decide(make_account(invoices=invoices), history, policy, NOW)
    assert step(d) == ("pre_due_reminder", 1, "next stage")
    # the lead day started it
    assert key(policy, make_account(invoices=invoices), history) == str(days_ago(-3))


def test_a_promise_broken_in_an_earlier_episode_does_not_resume_the_next(policy):
    invoices = [dict(TWO[0]), {"id": "I3", "amount": "600.00", "due_date": str(days_ago(6))}]
    promise = ev("promise_to_pay", at(60), amount="1000.00", until=str(days_ago(55)))
    history = [promise, ev("payment", at(20), amount="1000.00", invoice_id="I1")]
    d = decide(make_account(invoices=invoices), history, policy, NOW)
    assert step(d) == ("friendly_reminder", 1, "next stage")
    # broken within this episode, it does resume
    recent = ev("promise_to_pay", at(5), amount="600.00", until=str(days_ago(4)))
    d = decide(make_account(invoices=invoices), history + [recent], policy, NOW)
    assert step(d) == ("firm_reminder", 1, "resume after broken promise")


def test_the_outbox_payload_carries_the_new_episode(policy):
    paid = LADDER + [ev("payment", at(0, 9), amount="1000.00", invoice_id="I1")]
    db = decide_batch(Batch.from_objects([make_account(invoices=TWO)], [paid]), policy, NOW)
    cols = summarise(db)
    (episode,), _ = payloads(db, cols, np.array([0]), 1)
    assert episode == cols.episode_key(db, 0) == db.facts.episode_key(0)
    assert episode.startswith(str(days_ago(12)) + "@")
