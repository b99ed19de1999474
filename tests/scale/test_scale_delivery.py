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


def test_a_rate_counted_in_the_database_is_shared_by_limiters_on_it(store):
    """Two limiters on one database (as two workers on an AMQP broker) share a channel's 2 a second
    in `rate_windows`: the third message of a second waits for the next, whichever sends it."""
    clock, slept = [7000.5], []

    def sleep(seconds):
        slept.append(seconds)
        clock[0] += seconds

    one, two = (RateLimiter(None, {"sms": 2}, engine=store.engine, clock=lambda: clock[0], sleep=sleep)
                for _ in range(2))
    assert one.shared and not RateLimiter(None, {"sms": 2}).shared
    assert [one.wait("sms"), two.wait("sms"), one.wait("email")] == [0, 0, 0]
    assert two.wait("sms") == 0.5 and int(clock[0]) == 7001
    assert rows(store, "SELECT second, sent FROM rate_windows ORDER BY second") == [(7000, 3), (7001, 1)]
