"""Two dispatchers with the same list of due contacts: each contact still goes out once.

The claim (pending -> sending) is conditional on the row still being pending; that one
condition is what stops a second dispatcher, which read the due rows before the first
delivered them, from delivering them again. These tests interleave two real dispatch
runs deterministically (the second run's `stop` callback runs the first in full at the
moment the second is about to claim) against a real HTTP provider.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from arrears.engine.store import outboxstore
from arrears.engine.tick import dispatch_due, run_tick
from tests.tick.tickkit import MONDAY, account, keys_received, load, rows


def test_a_dispatcher_holding_a_stale_list_of_due_rows_sends_nothing_twice(store, policy, server,
                                                                              dispatcher):
    load(store, [account("A1"), account("A2"), account("A3")])
    assert run_tick(store, policy, MONDAY).actions_queued == 3      # queued, not yet delivered
    at = MONDAY + timedelta(minutes=1)
    first_runs = []

    def first_dispatcher_runs_now():
        # Called by the second run after it has read the due rows and before each claim.
        if not first_runs:
            first_runs.append(dispatch_due(store, policy, dispatcher, at))
        return False

    second = dispatch_due(store, policy, dispatcher, at, stop=first_dispatcher_runs_now)
    assert first_runs[0].delivered == 3
    assert second.delivered == 0
    assert sorted(keys_received(server).values()) == [1, 1, 1]
    assert rows(store, "SELECT status, count(*) FROM outbox GROUP BY status") == [("sent", 3)]
    attempts = rows(store, "SELECT count(*) FROM events WHERE type = 'contact_attempt'")
    assert attempts == [(3,)]


def test_a_claim_succeeds_only_on_a_pending_row(store, policy):
    load(store, [account("A1")])
    run_tick(store, policy, MONDAY)
    (row_id,) = [r for (r,) in rows(store, "SELECT id FROM outbox")]
    now = int(MONDAY.timestamp())
    with store.transaction(now=now) as w:
        assert outboxstore.claim(w.conn, row_id, "run-a", now) is True
    with store.transaction(now=now) as w:
        assert outboxstore.claim(w.conn, row_id, "run-b", now) is False     # sending: taken
    with store.transaction(now=now) as w:
        assert outboxstore.finish(w.conn, row_id, "run-a", now, status="sent", tries=1) is True
    for status in ("sent", "failed", "cancelled", "unknown"):
        with store.transaction(now=now) as w:
            w.conn.execute(text("UPDATE outbox SET status = :s WHERE id = :i"), {"s": status, "i": row_id})
        with store.transaction(now=now) as w:
            assert outboxstore.claim(w.conn, row_id, "run-c", now) is False, status
    assert rows(store, "SELECT claimed_by FROM outbox") == [("run-a",)]
