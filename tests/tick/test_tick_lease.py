"""The database lease: one holder at a time, renewals, expiry, release, and races."""
from __future__ import annotations

import threading

import pytest

from arrears.engine.store.leases import Lease, LeaseLost, acquire, release, state
from arrears.engine.tick import run_tick
from tests.tick.tickkit import NOW, account, load, rows

pytestmark = pytest.mark.also_postgresql


class Clock:
    """A settable wall clock."""

    def __init__(self, t: float = 1_000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_one_holder_until_expiry_then_another(store):
    assert acquire(store.engine, "tick", "a", now=100, ttl=10)
    assert not acquire(store.engine, "tick", "b", now=105, ttl=10)
    assert acquire(store.engine, "tick", "a", now=105, ttl=10)          # renewal by the holder
    assert state(store.engine, "tick").expires_at == 115
    assert not acquire(store.engine, "tick", "b", now=114.9, ttl=10)
    assert acquire(store.engine, "tick", "b", now=115, ttl=10)          # expired: taken over
    who = state(store.engine, "tick")
    assert (who.holder, who.acquired_at, who.expires_at) == ("b", 115, 125)


def test_renewal_keeps_the_acquisition_time(store):
    acquire(store.engine, "tick", "a", now=100, ttl=10)
    acquire(store.engine, "tick", "a", now=108, ttl=10)
    assert state(store.engine, "tick").acquired_at == 100


def test_release_frees_it_at_once_but_only_for_the_holder(store):
    acquire(store.engine, "tick", "a", now=100, ttl=60)
    assert not release(store.engine, "tick", "b", now=101)
    assert not acquire(store.engine, "tick", "b", now=101, ttl=60)
    assert release(store.engine, "tick", "a", now=101)
    assert acquire(store.engine, "tick", "b", now=101, ttl=60)


def test_leases_are_independent_by_name(store):
    assert acquire(store.engine, "tick", "a", now=0, ttl=60)
    assert acquire(store.engine, "other", "b", now=0, ttl=60)


def test_keep_renews_after_a_third_of_the_ttl_and_detects_a_takeover(store):
    clock = Clock()
    lease = Lease(store.engine, "tick", "a", ttl=30, clock=clock)
    assert lease.acquire()
    clock.t += 5
    lease.keep()                                       # too early to write
    assert state(store.engine, "tick").expires_at == 1030
    clock.t += 6
    lease.keep()
    assert state(store.engine, "tick").expires_at == 1041
    clock.t += 31                                      # we stalled past expiry; b takes over
    assert acquire(store.engine, "tick", "b", now=clock.t, ttl=30)
    with pytest.raises(LeaseLost, match="taken by b"):
        lease.keep()


def test_racing_threads_get_exactly_one_winner(db_url):
    from arrears.engine.store import Store
    winners, barrier = [], threading.Barrier(6)

    def contender(name):
        with Store(db_url) as s:
            barrier.wait()
            if acquire(s.engine, "tick", name, now=500, ttl=60):
                winners.append(name)

    Store(db_url).close()
    threads = [threading.Thread(target=contender, args=(f"h{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1


def test_a_tick_without_the_lease_does_nothing(store, policy):
    load(store, [account("A1")])
    clock = Clock()
    assert acquire(store.engine, "tick", "someone-else", now=clock(), ttl=60)
    summary = run_tick(store, policy, NOW, holder="me", clock=clock)
    assert not summary.ran and "someone-else" in summary.skipped_reason
    assert "skipped" in summary.line()
    assert rows(store, "SELECT count(*) FROM decisions")[0][0] == 0
    assert rows(store, "SELECT next_evaluation_at FROM accounts")[0][0] is None
    clock.t += 61                                      # the other holder died: lease expired
    assert run_tick(store, policy, NOW, holder="me", clock=clock).ran
    assert state(store.engine, "tick").expires_at == clock.t          # released at the end
