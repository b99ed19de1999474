"""The issue's fault test, at random: three `arrears worker`s and a leader (`arrears tick`) on
PostgreSQL and Redis tick a few rounds while workers and the leader are SIGKILLed at random
moments and restarted, and the broker is restarted empty mid-tick. At the end no contact reached
the HTTP sink twice, no decision is lost or written twice, and every page is done (but those a
dead leader left queued, stopped with its abandoned run: the ticks after it decide their accounts).

The moments come from a seeded random generator; the seed is printed (pytest shows it with a
failure) and `ARREARS_FAULT_SEED=N` runs the same faults again.
"""
from __future__ import annotations

import os
import random
import subprocess
import time
from datetime import timedelta
from functools import partial

import pytest

from arrears.engine.domain.model import Event
from arrears.engine.store import tickruns
from arrears.engine.tick.service import Runtime
from arrears.engine.tick.settings import load_settings
from tests.redisserver import RedisServer
from tests.scale.scalekit import ARREARS, Workers, write_config
from tests.tick.tickkit import MONDAY, assert_consistent, rows, settle
from tests.waiting import WaitTimeout, wait_until

pytestmark = [pytest.mark.postgresql, pytest.mark.slow]
ROUNDS = 2                  # ticks a day apart, every account due in each
SKIPPED = 3                 # `arrears tick`'s exit status when another process holds the lease
PAGES = "SELECT count(*) FROM tick_pages WHERE kind = 'evaluate' AND status = :s"


def _plan(rng: random.Random) -> list[list[str]]:
    """The faults of each round: a worker killed in every round, the leader killed in one round and
    the broker restarted in another (a dead leader's pages lost with the broker's queue would have
    no one to send them again), each round's faults in a random order, the leader's last."""
    leader_round, broker_round = rng.sample(range(ROUNDS), 2)
    plan = []
    for k in range(ROUNDS):
        faults = ["worker"] * rng.randint(1, 2) + (["broker"] if k == broker_round else [])
        rng.shuffle(faults)
        plan.append(faults + (["leader"] if k == leader_round else []))
    return plan


def test_random_kills_and_a_broker_restart_lose_nothing_and_send_nothing_twice(world, sink, tmp_path,
                                                                                portfolio):
    seed = int(os.environ.get("ARREARS_FAULT_SEED") or random.SystemRandom().randrange(2**31))
    rng = random.Random(seed)
    plan = _plan(rng)
    print(f"fault seed {seed} (ARREARS_FAULT_SEED={seed} repeats it): {plan}")
    server = RedisServer(tmp_path / "redis")
    broker = server.start()
    config = write_config(world["config"], sink.url, batch_size=2, resend_after=0.5)   # 30 pages of 2 accounts
    config.write_text(config.read_text().replace("[tick]\n", "[tick]\nlease_ttl = 2\n"))
    sink.respond(lambda _request: (time.sleep(0.01), None)[1])       # a provider that takes its time
    workers = Workers(world["db"], broker, config, tmp_path)
    runtime = Runtime(load_settings(db=world["db"], broker=broker, config=str(config), environ={}))
    store = runtime.store
    started = time.monotonic()
    alive = workers.start(3)
    print(f"workers ready at {time.monotonic() - started:.1f} s")
    try:
        for k, faults in enumerate(plan):
            now = MONDAY + timedelta(days=k)
            if k:                   # every account due again: an event on each, just before the tick
                store.append_events([(a.id, Event("note", now - timedelta(seconds=1)), None)
                                     for a in portfolio[0]], now=now - timedelta(seconds=1))
            done = rows(store, PAGES, s="done")[0][0]
            leader = _leader(world["db"], broker, config, now)
            wait_until(partial(_moved, store, done, leader), 60, 0.005,
                       what=f"round {k}'s first page (seed {seed})")
            print(f"round {k}: first page at {time.monotonic() - started:.1f} s")
            for fault in faults:
                time.sleep(rng.uniform(0.0, 0.4))
                print(f"round {k}: {fault} at {time.monotonic() - started:.1f} s")
                if fault == "worker":
                    victim = rng.choice(alive)
                    workers.kill(victim)
                    alive = [p for p in alive if p is not victim] + workers.start(1, wait=False)
                elif fault == "broker":
                    server.stop(remove=False)
                    server.start()              # the same socket, its queues empty
                else:
                    leader.kill()
                    leader.wait(10)
                    leader = _replacement(world["db"], broker, config, now)
            out, err = leader.communicate(timeout=120)
            assert leader.returncode == 0, f"seed {seed}, round {k}: {leader.returncode} {out} {err}"
        try:
            wait_until(lambda: rows(store, PAGES, s="queued") == [(0,)], 60, 0.1)
        except WaitTimeout:
            pytest.fail(f"seed {seed}: pages left queued: " + repr(rows(store, (
                "SELECT p.kind, p.page_no, p.run_id, r.status, r.error FROM tick_pages p "
                "LEFT JOIN tick_runs r ON r.id = p.run_id WHERE p.status = 'queued'"))))
        now = MONDAY + timedelta(days=ROUNDS - 1, minutes=1)
        settled = wait_until(lambda: _ran(runtime.run(now, "cli")[1]), 30, 0.5, what="the lease")
        now, _ = settle(lambda at: runtime.run(at, "cli")[1], now, settled, step=timedelta(minutes=1))
        statuses = assert_consistent(store, runtime.policy, sink, int(now.timestamp()))      # 0 duplicates
        assert statuses.get("sent", 0) >= 10, (seed, statuses)
        twice = rows(store, "SELECT acct_no, evaluated_at FROM decisions GROUP BY acct_no, evaluated_at "
                            "HAVING count(*) > 1")
        assert twice == [], f"an account decided twice at one instant (seed {seed})"
        # Every page done; but a dead leader's pages it had not sent (nor a worker written) are
        # stopped with its run (tickpages.abandon): the ticks after it decided their accounts.
        left = rows(store, "SELECT count(*) FROM tick_pages p JOIN tick_runs r ON r.id = p.run_id WHERE "
                           "p.status <> 'done' AND r.error IS DISTINCT FROM :e", e=tickruns.ABANDONED)
        assert left == [(0,)], seed
        assert rows(store, "SELECT count(DISTINCT evaluated_at) FROM decisions")[0][0] >= ROUNDS
        assert store.verify_audit().ok
    finally:
        workers.stop()
        runtime.close()
        server.stop()


def _leader(db: str, broker: str, config, now) -> subprocess.Popen:
    """`arrears tick --at now` with the broker: the leader of one distributed tick."""
    at = now.isoformat().replace("+00:00", "Z")
    return subprocess.Popen([str(ARREARS), "tick", "--db", db, "--broker", broker, "--config", str(config),
                             "--at", at], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={"PATH": "/usr/bin:/bin"})


def _replacement(db: str, broker: str, config, now) -> subprocess.Popen:
    """A new leader for the dead one's tick, started as soon as its lease has expired."""
    deadline = time.monotonic() + 120
    while True:
        leader = _leader(db, broker, config, now)
        if leader.wait(60) != SKIPPED:
            return leader
        assert time.monotonic() < deadline, "the dead leader's lease (2 s) still held after 2 minutes"
        time.sleep(0.3)


def _moved(store, done: int, leader) -> bool:
    """A page more than `done` is done, or the leader has exited."""
    return rows(store, PAGES, s="done")[0][0] > done or leader.poll() is not None


def _ran(summary):
    return summary if summary.ran else None
