"""Missed ticks after downtime: the next tick decides at its own `now`, one step per
account, so a month of downtime produces at most one message per account, not a burst."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from arrears.engine.tick import run_tick
from tests.tick.tickkit import MONDAY, account, load, rows

pytestmark = pytest.mark.also_postgresql


def _sent_per_account(server, start: int) -> Counter:
    return Counter(r.json()["message"]["account_id"] for r in server.requests[start:])


@pytest.mark.slow
def test_thirty_days_of_downtime_give_at_most_one_contact_per_account(store, policy, server, dispatcher,
                                                                      portfolio):
    accounts, histories = portfolio
    load(store, accounts, histories)
    now = MONDAY
    for _day in range(3):                          # normal operation: a tick a day
        start = len(server.requests)
        run_tick(store, policy, now, dispatcher=dispatcher)
        assert max(_sent_per_account(server, start).values(), default=0) <= 1
        now += timedelta(days=1)
    now += timedelta(days=30)                      # the service was down for a month
    start = len(server.requests)
    summary = run_tick(store, policy, now, dispatcher=dispatcher)
    per_account = _sent_per_account(server, start)
    assert summary.delivered == sum(per_account.values()) > 0
    assert max(per_account.values()) == 1
    again = run_tick(store, policy, now + timedelta(minutes=5), dispatcher=dispatcher)
    assert again.delivered == 0                    # nothing piles up behind it either


def test_a_contact_queued_before_the_downtime_is_replaced_not_sent_as_well(store, policy, server, dispatcher):
    load(store, [account("A1", due="2026-11-10")])
    run_tick(store, policy, MONDAY)                # queued friendly_reminder, never dispatched
    assert rows(store, "SELECT stage, status FROM outbox") == [("friendly_reminder", "pending")]
    later = MONDAY + timedelta(days=30)
    summary = run_tick(store, policy, later, dispatcher=dispatcher)
    assert (summary.delivered, summary.cancelled) == (1, 1)
    status = dict(rows(store, "SELECT stage, status FROM outbox"))
    assert status["friendly_reminder"] == "cancelled" and list(status.values()).count("sent") == 1
    (request,) = server.requests
    assert request.json()["message"]["stage"] != "friendly_reminder"   # the step due now, one step
