"""A dispatch run's `limit`, its progress reports and the retry schedule, as documented.

`dispatch_due(limit=N)` attempts at most N deliveries and leaves the rest pending for the
next run; `progress(done, total)` counts them against the rows due when the run began;
`Backoff` waits base * factor**(tries-1) seconds (at most `cap`) plus up to 10% jitter that
spreads rows apart.
"""
from __future__ import annotations

from datetime import timedelta

from arrears.engine.tick import dispatch_due, run_tick
from arrears.engine.tick.dispatch import Backoff
from tests.tick.tickkit import MONDAY, account, keys_received, load, rows


def test_a_limited_run_delivers_that_many_and_leaves_the_rest_pending(store, policy, server, dispatcher):
    load(store, [account(f"A{i}") for i in range(5)])
    assert run_tick(store, policy, MONDAY).actions_queued == 5
    at = MONDAY + timedelta(minutes=1)
    reports = []
    first = dispatch_due(store, policy, dispatcher, at, limit=2,
                         progress=lambda done, total: reports.append((done, total)))
    assert first.delivered == 2
    assert reports[-1] == (2, 5)                          # two of the five due when it began
    assert rows(store, "SELECT status, count(*) FROM outbox GROUP BY status ORDER BY status") == [
        ("pending", 3), ("sent", 2)]
    later = []
    second = dispatch_due(store, policy, dispatcher, at, limit=3,
                          progress=lambda done, total: later.append((done, total)))
    assert second.delivered == 3
    assert later[-1] == (3, 3)                            # the sent rows are not due any more
    assert sorted(keys_received(server).values()) == [1] * 5


def test_the_retry_schedule():
    b = Backoff()
    assert (b.base, b.factor, b.cap, b.max_tries) == (60, 2.0, 6 * 3600, 6)
    assert b.delay(1, row_id=0) == 60                     # row 0: no jitter
    assert b.delay(3, row_id=0) == 240
    assert b.delay(20, row_id=0) == 6 * 3600              # capped
    for tries in (1, 2, 3, 4):
        raw = 60 * 2 ** (tries - 1)
        delays = {b.delay(tries, row_id) for row_id in range(1, 200)}
        assert all(raw <= d <= raw + raw // 10 for d in delays)
        assert len(delays) > raw // 20                    # the jitter spreads rows over its range
    assert not b.exhausted(5) and b.exhausted(6)
