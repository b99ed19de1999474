"""The what-if's start is a claim in the store (`serve --workers N`): two app instances on one
SQLite file, each with its own store (its own connections, as two serving processes have), start
the same candidate at the same instant and one runs it while the other joins; a claim whose
process stopped renewing it reads as interrupted and is taken over after its time to live; a
job whose claim was taken over stops without overwriting the new one's record."""
from __future__ import annotations

import threading
import time

import pytest

from arrears.api import create_app
from arrears.api.app import state_of
from arrears.console.whatifjobs import PREFIX, WhatIfJobs
from arrears.engine.policy.load import load_checked
from arrears.engine.store import snapshots
from arrears.engine.store.db import write_transaction
from arrears.engine.store.store import Store
from arrears.policies import DEFAULT_POLICY

SHIPPED = DEFAULT_POLICY.read_text(encoding="utf-8")


def _candidate(version: str, grace: int):
    text = SHIPPED.replace('version: "1.0.0"', f'version: "{version}"', 1).replace(
        "default_days: 3", f"default_days: {grace}", 1)
    return load_checked(text, filename="<test>")[0]


@pytest.fixture()
def two_processes(demo_store):
    """Two serving processes' what-if jobs: each app on its own `Store` of the one database file."""
    stores = [Store(demo_store.url) for _ in range(2)]
    jobs = [WhatIfJobs(state_of(create_app({"database_url": s.url}, store=s)), batch_size=25, stale_after=60)
            for s in stores]
    yield jobs
    for j in jobs:
        j.shutdown()
    for s in stores:
        s.close()


def test_two_processes_starting_the_same_what_if_at_once_run_it_once(two_processes, demo_store):
    candidate = _candidate("3.1.0", grace=8)
    barrier, results = threading.Barrier(2), [None, None]

    def start(i):
        barrier.wait()
        results[i] = two_processes[i].start(candidate, f"user{i}")

    threads = [threading.Thread(target=start, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(joined for _, joined in results) == [False, True]
    runner = next(i for i, (_, joined) in enumerate(results) if not joined)
    other = 1 - runner
    assert candidate.digest in two_processes[runner]._threads
    assert candidate.digest not in two_processes[other]._threads          # nothing started there
    # the joiner sees the runner's job: same requester, same start, running or already done
    assert results[other][0]["by"] == f"user{runner}"
    assert results[other][0]["requested_at"] == results[runner][0]["requested_at"]
    assert demo_store.job_holder(PREFIX + candidate.digest) in (two_processes[runner].runner, None)
    assert two_processes[runner].wait(candidate.digest, 120)
    seen_by_other = two_processes[other].status(candidate.digest)
    assert seen_by_other["state"] == "done" and seen_by_other["done"] == demo_store.account_count()
    assert demo_store.job_holder(PREFIX + candidate.digest) is None        # released with the result
    again, joined = two_processes[other].start(candidate, "user9")          # ended: the other runs it now
    assert not joined and again["runner"] == two_processes[other].runner
    assert two_processes[other].wait(candidate.digest, 120)


def test_a_claim_whose_process_stopped_is_taken_over_after_its_time_to_live(two_processes, demo_store):
    candidate = _candidate("3.2.0", grace=9)
    dead = {"state": "running", "digest": candidate.digest, "name": "default", "version": "3.2.0", "by": "gone",
            "requested_at": "2026-12-01T00:00:00+00:00", "done": 10, "total": 500, "error": None,
            "runner": "a process that stopped", "finished_at": None}
    assert demo_store.start_job(PREFIX + candidate.digest, "a process that stopped", ttl=60, meta=dead) is None
    jobs = two_processes[0]
    status, joined = jobs.start(candidate, "compliance")            # the claim is live: join it
    assert joined and status["state"] == "running" and status["by"] == "gone"
    assert candidate.digest not in jobs._threads
    # Nobody renewed it: its last renewal was a minute ago, so its time to live (60 s) is over.
    with write_transaction(demo_store.engine) as conn:
        assert snapshots.start_job(conn, PREFIX + candidate.digest, "a process that stopped",
                                   now=time.time() - 61, ttl=60, meta=dead) is None
    lapsed = jobs.status(candidate.digest)
    assert lapsed["state"] == "failed" and "interrupted" in lapsed["error"]
    status, joined = jobs.start(candidate, "compliance")            # taken over
    assert not joined and status["by"] == "compliance" and status["runner"] == jobs.runner
    assert jobs.wait(candidate.digest, 120)
    assert jobs.status(candidate.digest)["state"] == "done"


def test_a_job_whose_claim_was_taken_over_stops_without_overwriting(two_processes, demo_store):
    candidate = _candidate("3.3.0", grace=10)
    slow, fast = two_processes
    slow.stale_after = 0.05                      # its claim lapses between two progress writes
    slow.start(candidate, "slow")
    deadline = time.time() + 60
    while time.time() < deadline:               # the other process takes the lapsed claim over
        status, joined = fast.start(candidate, "fast")
        if not joined:
            break
        time.sleep(0.02)
    assert not joined, "the lapsed claim was never taken over"
    assert slow.wait(candidate.digest, 120) and fast.wait(candidate.digest, 120)
    final = demo_store.snapshot(PREFIX + candidate.digest)["meta"]
    assert final["state"] == "done" and final["runner"] == fast.runner and final["by"] == "fast"
