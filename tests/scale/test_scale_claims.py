"""Delivery workers claim outbox rows with `FOR UPDATE SKIP LOCKED` (PostgreSQL): a row another
worker is claiming is skipped, not waited for, and no row is claimed twice."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from arrears.engine.store import Store, outboxstore
from arrears.engine.tick import run_tick
from tests.tick.tickkit import MONDAY, account, load

pytestmark = pytest.mark.postgresql


@pytest.fixture
def queued(pg_url, policy):
    with Store(pg_url) as store:
        load(store, [account("A1"), account("A2"), account("A3")])
        assert run_tick(store, policy, MONDAY).actions_queued == 3
        with store.engine.connect() as conn:
            ids = [r[0] for r in conn.execute(text("SELECT id FROM outbox ORDER BY id"))]
        yield store, ids



def test_a_row_being_claimed_elsewhere_is_skipped_not_waited_for(queued):
    store, ids = queued
    now = int(MONDAY.timestamp())
    other = store.engine.connect()
    busy = other.begin()
    other.execute(text("SELECT id FROM outbox WHERE id = :i FOR UPDATE"), {"i": ids[0]})   # a worker mid-claim
    try:
        with store.engine.begin() as conn:
            conn.execute(text("SET LOCAL lock_timeout = '2s'"))          # waiting would fail the test
            row = outboxstore.claim_next(conn, ids, "w2", now)
        assert row.id == ids[1]
    finally:
        busy.rollback()
        other.close()
    with store.engine.begin() as conn:
        assert outboxstore.claim_next(conn, ids, "w1", now).id == ids[0]
        assert outboxstore.claim_next(conn, ids, "w1", now).id == ids[2]
        assert outboxstore.claim_next(conn, ids, "w1", now) is None         # every row is claimed, once
        claimed = conn.execute(text("SELECT claimed_by, count(*) FROM outbox GROUP BY claimed_by "
                                    "ORDER BY claimed_by")).all()
    assert claimed == [("w1", 2), ("w2", 1)]
