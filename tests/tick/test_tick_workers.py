"""Pages planned in worker processes: the same stored result as planning in the ticking
process, errors passed back, and no worker outliving its tick or its ticking process."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest

from arrears.engine.domain.errors import ArrearsError
from arrears.engine.store import Store
from arrears.engine.tick import run_tick
from arrears.engine.tick.evaluate import PARALLEL_MIN_ACCOUNTS, PARALLEL_MIN_PAGES, _worker_count
from tests.tick.tickkit import NOW, load, rows
from tests.waiting import wait_until

TICK_TABLES = {
    "decisions": "SELECT * FROM decisions ORDER BY id",
    "outbox": "SELECT * FROM outbox ORDER BY id",
    "accounts": "SELECT acct_no, next_evaluation_at, last_evaluated_at, evaluated_revision, decision_key, "
                "decision_id FROM accounts ORDER BY acct_no",
    "pages": "SELECT seq, body, hash FROM audit WHERE kind = 'tick.page' ORDER BY seq",
}


def _ticked(tmp_path, name, policy, portfolio, workers, *, later=False):
    with Store(f"sqlite:///{tmp_path / name}") as store:
        load(store, *portfolio)
        first = run_tick(store, policy, NOW, batch_size=20, workers=workers)
        summaries = [first.to_dict()]
        if later:      # a second tick: some decisions change, queued contacts conflict
            summaries.append(run_tick(store, policy, NOW + timedelta(days=9), batch_size=20,
                                      workers=workers).to_dict())
        tables = {table: rows(store, sql) for table, sql in TICK_TABLES.items()}
    for s in summaries:
        s.pop("duration")
    return summaries, tables


@pytest.mark.slow
def test_workers_store_exactly_what_planning_here_stores(tmp_path, policy, portfolio):
    here = _ticked(tmp_path, "here.db", policy, portfolio, 0, later=True)
    there = _ticked(tmp_path, "there.db", policy, portfolio, 2, later=True)
    assert here[0][0]["evaluated"] == len(portfolio[0]) and here[0][1]["evaluated"] > 0
    assert here[0][1]["decisions_written"] > 0 and here[0][0]["actions_queued"] > 0
    assert there[0] == here[0]               # the same summaries
    for table in TICK_TABLES:                # and byte for byte the same rows, ids and audit hashes
        assert there[1][table] == here[1][table], table


def test_a_worker_error_is_raised_in_the_ticking_process_and_nothing_half_written(store, policy, portfolio):
    load(store, *portfolio)
    with store.engine.begin() as conn:       # an event type this version cannot read, in page 3
        broken = conn.exec_driver_sql("SELECT min(seq), acct_no FROM events WHERE acct_no > 40").one()
        conn.exec_driver_sql(f"UPDATE events SET type = 'teleported' WHERE seq = {broken[0]}")
    assert 40 < broken[1] <= 60
    with pytest.raises(ArrearsError, match=f"account {broken[1]} has a type this version does not know"):
        run_tick(store, policy, NOW, batch_size=20, workers=2)
    # pages before the broken one were committed whole; the rest are still due
    pages = rows(store, "SELECT count(*) FROM audit WHERE kind = 'tick.page'")[0][0]
    evaluated = rows(store, "SELECT count(*) FROM accounts WHERE next_evaluation_at IS NOT NULL")[0][0]
    assert evaluated == 20 * pages < 50
    assert rows(store, "SELECT count(*) FROM decisions")[0][0] == evaluated
    assert rows(store, "SELECT expires_at FROM leases WHERE name = 'tick'")[0][0] <= time.time()  # released


def test_a_stopped_tick_writes_whole_pages_and_leaves_the_rest_due(store, policy, portfolio):
    load(store, *portfolio)
    calls = []
    summary = run_tick(store, policy, NOW, batch_size=20, workers=2,
                       progress=lambda phase, done, total: calls.append(done), stop=lambda: len(calls) >= 2)
    assert summary.skipped_reason and summary.evaluated == 40 == calls[-1]
    assert rows(store, "SELECT count(*) FROM accounts WHERE next_evaluation_at IS NULL")[0][0] == 120 - 40
    assert run_tick(store, policy, NOW, batch_size=20, workers=2).evaluated == 80


def test_workers_are_used_only_when_they_pay(store, policy):
    assert _worker_count(store, policy, None, 1_000_000, 10_000, None) == min(2, os.cpu_count() or 1)
    assert _worker_count(store, policy, None, PARALLEL_MIN_ACCOUNTS - 1, 1_000, None) == 0  # too few accounts
    assert _worker_count(store, policy, None, (PARALLEL_MIN_PAGES - 1) * 10_000, 10_000, None) == 0  # pages
    assert _worker_count(store, policy, print, 1_000_000, 10_000, None) == 0   # observers want decisions
    assert _worker_count(store, policy, None, 10, 10_000, 2) == 2              # asked for
    with Store("sqlite://") as memory:                                          # nothing to share
        assert _worker_count(memory, policy, None, 1_000_000, 10_000, None) == 0


DRIVER = """
import sys, time
from datetime import datetime, timezone
from arrears.engine.policy.load import load_policy
from arrears.engine.store import Store
from arrears.engine.tick.workers import Planners
from arrears.policies import DEFAULT_POLICY
store = Store(sys.argv[1])
planners = Planners(store, load_policy(DEFAULT_POLICY), datetime(2026, 11, 22, 15, tzinfo=timezone.utc), 300, 2)
print(" ".join(str(p.pid) for p in planners._procs), flush=True)
time.sleep(60)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:         # a zombie has exited
        return f.read().split(")")[-1].split()[0] != "Z"


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc to see a process exit")
def test_workers_exit_when_the_ticking_process_is_killed(store):
    proc = subprocess.Popen([sys.executable, "-c", DRIVER, store.url], stdout=subprocess.PIPE, text=True)
    try:
        pids = [int(p) for p in proc.stdout.readline().split()]
        assert len(pids) == 2 and all(_alive(p) for p in pids)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        wait_until(lambda: not any(_alive(p) for p in pids), 60, 0.1, what="the orphaned workers to exit")
    finally:
        proc.kill()
        proc.wait()
