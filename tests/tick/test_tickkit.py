"""The settling helper the tick tests share: it stops at the first tick that changes nothing, and
fails (never loops forever) when every tick keeps changing something."""
from __future__ import annotations

from datetime import timedelta

import pytest

from arrears.engine.tick.runner import TickSummary, run_tick
from tests.tick.tickkit import MONDAY, SETTLE_LIMIT, account, load, settle


def test_settle_ticks_a_real_store_until_a_tick_changes_nothing(store, policy):
    load(store, [account("A1"), account("A2")])
    seen = []

    def tick(at):
        seen.append(run_tick(store, policy, at))
        return seen[-1]

    at, last = settle(tick, MONDAY)
    assert at == MONDAY and last is seen[-1] and len(seen) >= 2
    assert seen[0].evaluated == 2 and not (last.evaluated or last.actions_queued)


def test_settle_fails_naming_what_kept_changing_instead_of_ticking_forever():
    calls = []

    def restless(at):
        calls.append(at)
        return TickSummary(at=at.isoformat(), deferred=1)

    with pytest.raises(AssertionError, match=r"still changing after 30 ticks .*'deferred': 1"):
        settle(restless, MONDAY, step=timedelta(minutes=1))
    assert len(calls) == SETTLE_LIMIT and calls[-1] == MONDAY + timedelta(minutes=SETTLE_LIMIT - 1)
