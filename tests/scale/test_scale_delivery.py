"""A delivery task's rows (`dispatch.deliver_rows`): act-once as `dispatch_due`, and each contact
waits on its channel's shared rate limit (a real SQLite store and a real HTTP provider)."""
from __future__ import annotations

from arrears.engine.tick import run_tick
from arrears.engine.tick.broker import RateLimiter
from arrears.engine.tick.dispatch import deliver_rows
from tests.tick.tickkit import MONDAY, account, keys_received, load, rows


def test_each_contact_waits_on_its_channels_rate_and_goes_out_once(store, policy, server, dispatcher):
    load(store, [account(f"A{i}") for i in range(4)])
    assert run_tick(store, policy, MONDAY).actions_queued == 4
    due = rows(store, "SELECT id, acct_no, channel FROM outbox ORDER BY id")
    assert {channel for *_, channel in due} == {"email"}
    clock, slept = [5000.0], []

    def sleep(seconds):
        slept.append(seconds)
        clock[0] += seconds

    limiter = RateLimiter(None, {"email": 2}, clock=lambda: clock[0], sleep=sleep)   # 2 a second
    pairs = [(row_id, acct_no) for row_id, acct_no, _ in due]
    counts = deliver_rows(store, policy, dispatcher, pairs, MONDAY, token="w1", limiter=limiter)
    assert counts.delivered == 4 and slept == [1.0]          # the third waited for the next second
    again = deliver_rows(store, policy, dispatcher, pairs, MONDAY, token="w2", limiter=limiter)
    assert again.delivered == 0                               # a part run twice sends nothing again
    assert sorted(keys_received(server).values()) == [1, 1, 1, 1]
