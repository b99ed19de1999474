"""Processes killed at random moments (SIGKILL) and restarted, and two processes ticking
at once: no contact is delivered twice, and no decision is lost."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from arrears.engine.domain.clock import as_epoch
from tests.tick.tickkit import MONDAY, assert_consistent, load, load_portfolio
from tests.waiting import wait_until

pytestmark = pytest.mark.slow

DRIVER = Path(__file__).with_name("tick_driver.py")
KILL_BUDGET = float(os.environ.get("ARREARS_KILL_TEST_SECONDS", "35"))
MIN_KILLS = 15                        # killed at least this often, however long that takes
SPEED = 86_400 / 1.5                  # one simulated day every 1.5 s


@pytest.fixture
def world(tmp_path, store, server):
    """A portfolio in the store and the simulated clock the drivers share."""
    accounts, histories = load_portfolio(150, seed=5)
    load(store, accounts, histories)
    clock = tmp_path / "clock.json"
    clock.write_text(json.dumps({"base": as_epoch(MONDAY), "t0": time.time(), "speed": SPEED}))
    return clock


def _start(store, server, clock, mode="loop", *extra) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(DRIVER), store.url, server.url, str(clock), mode, *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _settle(store, server, clock) -> int:
    data = json.loads(clock.read_text())
    at = int(data["base"] + (time.time() - data["t0"]) * data["speed"]) + 1
    done = _start(store, server, clock, "settle", str(at))
    out, err = done.communicate(timeout=120)
    print("settling ticks:", out)          # shown when a test fails
    assert done.returncode == 0, err[-3000:]
    return at


def _first_tick_seconds(store, server, clock) -> tuple[float, subprocess.Popen]:
    """How long a driver takes from start to its first tick summary; the driver, killed."""
    t0 = time.monotonic()
    proc = _start(store, server, clock)
    proc.stdout.readline()
    elapsed = time.monotonic() - t0
    proc.send_signal(signal.SIGKILL)
    return elapsed, proc


def _summaries(text: str) -> list[dict]:
    out = []
    for line in text.splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass                       # a line cut by SIGKILL
    return out


def test_sigkill_at_random_moments_never_delivers_twice_nor_loses_a_decision(store, policy, server, world):
    rng = random.Random(int(os.environ.get("ARREARS_KILL_SEED", "20261123")))
    # Kill within ~3x the time a process needs to finish its first tick (~0.7 s on a quiet
    # machine, several seconds on a loaded one), so some die before ticking, some mid-tick and
    # some after ticks, whatever the machine's load.
    first_tick, proc = _first_tick_seconds(store, server, world)
    window = max(2.2, 3 * first_tick)
    budget = max(KILL_BUDGET, 20 * (0.2 + window) / 2)
    started, kills, ticks = time.monotonic(), 1, _summaries(proc.communicate()[0])
    # A count, not a time budget, guarantees the kills: a loaded machine takes longer.
    while kills < MIN_KILLS or (time.monotonic() - started < budget and kills < 40):
        proc = _start(store, server, world)
        time.sleep(rng.uniform(0.2, window))
        proc.send_signal(signal.SIGKILL)
        out, _err = proc.communicate()
        ticks += _summaries(out)
        kills += 1
    assert sum(t["delivered"] for t in ticks) > 0       # the processes got real work done
    settled_at = _settle(store, server, world)
    statuses = assert_consistent(store, policy, server, settled_at)
    assert statuses.get("sent", 0) >= 20
    print(f"\n{kills} kills, {len(ticks)} completed ticks, outbox {statuses}, "
          f"{len(server.requests)} deliveries")


class _Output:
    """What a running process prints, read by threads as it comes (so its pipes never fill)."""

    def __init__(self, proc: subprocess.Popen):
        self.summaries: list[dict] = []
        self.err: list[str] = []
        self._threads = [threading.Thread(target=self._read, args=(proc.stdout, self.summaries, _summaries),
                                          daemon=True),
                         threading.Thread(target=self._read, args=(proc.stderr, self.err, lambda x: [x]),
                                          daemon=True)]
        for t in self._threads:
            t.start()

    @staticmethod
    def _read(stream, into: list, parse) -> None:
        for line in stream:
            into.extend(parse(line))

    def join(self) -> None:
        for t in self._threads:
            t.join(30)


def test_two_processes_ticking_at_once_share_the_work_without_duplicates(store, policy, server, world):
    started = time.monotonic()
    procs = [_start(store, server, world) for _ in range(2)]
    outputs = [_Output(proc) for proc in procs]

    def contended() -> bool:
        for proc, out in zip(procs, outputs):
            assert proc.poll() is None, "a ticking process died: " + "".join(out.err)[-3000:]
        ticks = [t for o in outputs for t in o.summaries]
        # at least 8 s of ticking together, and until a tick ran and another found the lease taken
        return (time.monotonic() - started >= 8 and any(t["ran"] for t in ticks)
                and not all(t["ran"] for t in ticks))

    try:
        wait_until(contended, 180, 0.1, what="the two processes to contend for the tick lease")
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
        for out in outputs:
            out.join()
    outputs = [o.summaries for o in outputs]
    ran = [sum(t["ran"] for t in o) for o in outputs]
    skipped = [sum(not t["ran"] for t in o) for o in outputs]
    assert sum(ran) > 0 and sum(skipped) > 0, (ran, skipped)   # they did contend for the lease
    settled_at = _settle(store, server, world)
    assert_consistent(store, policy, server, settled_at)
