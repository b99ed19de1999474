"""Processes killed at random moments (SIGKILL) and restarted, and two processes ticking
at once: no contact is delivered twice, and no decision is lost."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from arrears.engine.domain.clock import as_epoch
from tests.tick.tickkit import MONDAY, assert_consistent, load, load_portfolio

DRIVER = Path(__file__).with_name("tick_driver.py")
KILL_BUDGET = float(os.environ.get("ARREARS_KILL_TEST_SECONDS", "35"))
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
    while time.monotonic() - started < budget and kills < 40:
        proc = _start(store, server, world)
        time.sleep(rng.uniform(0.2, window))
        proc.send_signal(signal.SIGKILL)
        out, _err = proc.communicate()
        ticks += _summaries(out)
        kills += 1
    assert kills >= 15
    assert sum(t["delivered"] for t in ticks) > 0       # the processes got real work done
    settled_at = _settle(store, server, world)
    statuses = assert_consistent(store, policy, server, settled_at)
    assert statuses.get("sent", 0) >= 20
    print(f"\n{kills} kills, {len(ticks)} completed ticks, outbox {statuses}, "
          f"{len(server.requests)} deliveries")


def test_two_processes_ticking_at_once_share_the_work_without_duplicates(store, policy, server, world):
    procs = [_start(store, server, world) for _ in range(2)]
    time.sleep(8)
    outputs = []
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        outputs.append(_summaries(out))
    ran = [sum(t["ran"] for t in o) for o in outputs]
    skipped = [sum(not t["ran"] for t in o) for o in outputs]
    assert sum(ran) > 0 and sum(skipped) > 0, (ran, skipped)   # they did contend for the lease
    settled_at = _settle(store, server, world)
    assert_consistent(store, policy, server, settled_at)
