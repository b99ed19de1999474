"""The evaluation half: decisions written when they change, contacts queued once, the
next evaluation stored, and work proportional to the due accounts."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from arrears.engine.domain.clock import as_epoch
from arrears.engine.domain.model import Event
from arrears.engine.tick import run_tick
from tests.tick.tickkit import MONDAY, NOW, account, load, rows

pytestmark = pytest.mark.also_postgresql


def test_first_tick_decides_every_account_and_queues_the_contacts_due(store, policy, portfolio):
    accounts, histories = portfolio
    load(store, accounts, histories)
    summary = run_tick(store, policy, NOW, batch_size=50)
    n = len(accounts)
    assert summary.ran and summary.evaluated == n and summary.stale == 0
    assert summary.decisions_written == n == rows(store, "SELECT count(*) FROM decisions")[0][0]
    queued = rows(store, "SELECT count(*) FROM outbox WHERE status = 'pending'")[0][0]
    assert summary.actions_queued == queued > 0
    assert summary.suppressed > 0 and summary.delivered == 0
    now_s = as_epoch(NOW)
    assert rows(store, "SELECT count(*) FROM accounts WHERE next_evaluation_at IS NULL "
                       "OR next_evaluation_at <= :now OR evaluated_revision != revision", now=now_s)[0][0] == 0
    # each account's decision_id points at its decision, whose key columns match the account's key
    for key, stage, action, channel, attempt in rows(
            store, "SELECT a.decision_key, d.stage, d.action_type, d.channel, d.attempt FROM accounts a "
                   "JOIN decisions d ON d.id = a.decision_id"):
        assert key.startswith(f"{stage or ''}|{action or ''}|{channel or ''}|{attempt if action else ''}|")
    # outbox rows: only for actions that may go out within the horizon, with their episode (the
    # oldest unpaid due date, and the start when a payment began the episode: docs/facts.md)
    for nb, episode, status in rows(store, "SELECT next_attempt_at, episode_key, status FROM outbox"):
        assert nb <= now_s + 300 and status == "pending"
        # (an event message is keyed by its trigger instead: engine/decisions/messages.py)
        assert re.fullmatch(r"(\d{4}-\d\d-\d\d|[a-z_]+)(@\d{8}T\d{6}Z)?", episode), episode
    assert store.verify_audit().ok
    pages = rows(store, "SELECT count(*) FROM audit WHERE kind = 'tick.page'")[0][0]
    assert pages == -(-n // 50)


def test_an_unchanged_decision_writes_no_row_and_queues_nothing_again(store, policy, portfolio):
    accounts, histories = portfolio
    load(store, accounts, histories)
    run_tick(store, policy, NOW)
    before = store.counts()
    with store.engine.begin() as conn:       # make everyone due again, nothing else changed
        conn.exec_driver_sql("UPDATE accounts SET next_evaluation_at = NULL")
    again = run_tick(store, policy, NOW)
    assert again.evaluated == len(accounts)
    assert again.decisions_written == 0 and again.actions_queued == 0
    after = store.counts()
    assert (after["decisions"], after["outbox"]) == (before["decisions"], before["outbox"])


def test_only_due_accounts_are_evaluated(store, policy, portfolio):
    accounts, histories = portfolio
    load(store, accounts, histories)
    run_tick(store, policy, NOW)
    assert run_tick(store, policy, NOW + timedelta(minutes=5)).evaluated == 0
    store.append_events([(accounts[7].id, Event.from_dict(
        {"type": "note", "at": "2026-11-22T15:06:00Z"}), None)], now=NOW)
    summary = run_tick(store, policy, NOW + timedelta(minutes=10))
    assert summary.evaluated == 1


def test_an_account_changed_while_being_decided_stays_due(store, policy):
    load(store, [account("A1"), account("A2")])
    real_load = store.load_batch

    def load_then_pay(acct_nos):
        batch = real_load(acct_nos)
        # a payment lands after the page was read, before it is written
        store.append_events([("A2", Event.from_dict({"type": "payment", "at": "2026-11-22T14:59:00Z",
                                                     "amount": "1000.00"}), "psp-1")], now=NOW)
        return batch

    store.load_batch = load_then_pay
    summary = run_tick(store, policy, MONDAY)
    store.load_batch = real_load
    assert (summary.evaluated, summary.stale, summary.actions_queued) == (1, 1, 1)
    state = dict(rows(store, "SELECT id, next_evaluation_at FROM accounts"))
    assert state["A2"] is None                      # still due, nothing stored for it
    assert rows(store, "SELECT count(*) FROM outbox o JOIN accounts a USING (acct_no) "
                       "WHERE a.id = 'A2'")[0][0] == 0
    follow = run_tick(store, policy, MONDAY + timedelta(minutes=1))
    # paid: no reminder, only the shipped policy's thank-you for the payment
    assert follow.evaluated == 1 and follow.actions_queued == 1
    assert rows(store, "SELECT o.stage FROM outbox o JOIN accounts a USING (acct_no) WHERE a.id = 'A2'") == [
        ("payment_thanks",)]


def test_contacts_beyond_the_horizon_wait_for_their_evaluation(store, policy):
    late = NOW.replace(hour=23)          # after UK reasonable hours: not before 08:00
    load(store, [account("A1")])
    summary = run_tick(store, policy, late, horizon=300)
    assert summary.actions_queued == 0
    (nea,) = rows(store, "SELECT next_evaluation_at FROM accounts")[0]
    assert nea > as_epoch(late)
    summary = run_tick(store, policy, late + timedelta(seconds=nea - as_epoch(late)))
    assert summary.evaluated == 1 and summary.actions_queued == 1


def test_a_cancelled_contact_is_queued_again_when_decided_again(store, policy):
    load(store, [account("A1")])
    run_tick(store, policy, MONDAY)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE outbox SET status = 'cancelled', last_error = 'x'")
        conn.exec_driver_sql("UPDATE accounts SET next_evaluation_at = NULL")
    summary = run_tick(store, policy, MONDAY + timedelta(minutes=1))
    assert summary.actions_queued == 1
    assert rows(store, "SELECT status, tries FROM outbox") == [("pending", 0)]


def test_a_failed_contact_comes_back_on_its_channel_only_after_the_retry_time(store, policy):
    """A delivery that failed (the dispatcher records the failed attempt in the history) is not
    queued again on that channel until the channel's `retry_after_hours` (email: 24) have passed;
    then the same outbox row is revived rather than a second one added (act-once)."""
    load(store, [account("A1")])
    run_tick(store, policy, MONDAY)
    ((channel, stage),) = rows(store, "SELECT channel, stage FROM outbox")
    name = policy.channels[channel]
    failed_at = MONDAY + timedelta(minutes=1)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE outbox SET status = 'failed'")
    store.append_events([("A1", Event.from_dict({"type": "contact_attempt", "at": failed_at.isoformat(),
                                                  "channel": name, "stage": stage, "outcome": "failed"}),
                          "outbox:1")], now=as_epoch(failed_at))
    hours = policy.channel_retry[name] // 3600
    soon = run_tick(store, policy, failed_at + timedelta(hours=1))
    assert rows(store, "SELECT status FROM outbox") == [("failed",)]
    assert soon.actions_queued == 0
    later = failed_at + timedelta(hours=hours, minutes=1)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE accounts SET next_evaluation_at = NULL")
    run_tick(store, policy, later)
    statuses = rows(store, "SELECT status, channel FROM outbox")
    assert len(statuses) == 1 and statuses[0][0] == "pending"
