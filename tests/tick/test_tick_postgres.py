"""The tick on PostgreSQL: the same code, the same guarantees (a real server: see
tests/store/test_store_postgres.py and tests/pgcluster.py)."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import text

from arrears.engine.domain.model import Event
from arrears.engine.store import Store
from arrears.engine.store.leases import acquire
from arrears.engine.tick import dispatch_due, run_tick
from tests.tick.tickkit import MONDAY, account, assert_consistent, keys_received, load, rows, settle

pytestmark = pytest.mark.postgresql


@pytest.fixture
def pg_store(pg_url):
    with Store(pg_url) as store:
        yield store


@pytest.mark.slow
def test_ticks_deliver_once_and_record_everything(pg_store, policy, server, dispatcher, portfolio):
    accounts, histories = portfolio
    load(pg_store, accounts, histories)
    now = MONDAY
    for _ in range(4):
        summary = run_tick(pg_store, policy, now, dispatcher=dispatcher, batch_size=40)
        assert summary.ran and summary.plugin_failures == []
        now += timedelta(days=3)
    assert sum(keys_received(server).values()) > 20
    settle(lambda at: run_tick(pg_store, policy, at, dispatcher=dispatcher), now)
    assert_consistent(pg_store, policy, server, int(now.timestamp()))


def test_revival_cancellation_and_the_unchanged_path(pg_store, policy, server, dispatcher):
    load(pg_store, [account("A1"), account("A2")])
    assert run_tick(pg_store, policy, MONDAY).actions_queued == 2
    pg_store.append_events([("A2", Event.from_dict({"type": "payment", "amount": "1000.00",
                                                    "at": "2026-11-23T09:00:00Z"}), "psp")], now=MONDAY)
    counts = dispatch_due(pg_store, policy, dispatcher, MONDAY)
    assert (counts.delivered, counts.cancelled) == (1, 1)
    with pg_store.engine.begin() as conn:
        conn.execute(text("UPDATE outbox SET status = 'cancelled' WHERE status = 'sent'"))
        conn.execute(text("UPDATE accounts SET next_evaluation_at = NULL"))
    again = run_tick(pg_store, policy, MONDAY + timedelta(minutes=1))
    # A1: contact recorded, moved on; A2, paid: only the shipped policy's thank-you for the payment
    assert again.evaluated == 2 and again.actions_queued == 1
    assert rows(pg_store, "SELECT a.id, o.stage FROM outbox o JOIN accounts a ON a.acct_no = o.acct_no "
                          "WHERE o.status = 'pending'") == [("A2", "payment_thanks")]


def test_racing_lease_takers_get_one_winner(pg_store):
    winners, barrier = [], threading.Barrier(5)

    def contender(name):
        barrier.wait()
        if acquire(pg_store.engine, "tick", name, now=100, ttl=60):
            winners.append(name)

    threads = [threading.Thread(target=contender, args=(f"h{i}",)) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1
    assert rows(pg_store, "SELECT holder FROM leases") == [(winners[0],)]
