"""The suite's own Redis (tests/redisserver.py): on its Unix socket only, answering, and gone
without a trace when stopped. (CI starts it through the same module.)"""
from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from arrears.engine.tick.broker import RateLimiter, queue_depth, redis_client
from tests import redisserver
from tests.pgcluster import _running


def test_a_throwaway_server_starts_serves_and_leaves_nothing_behind():
    if redisserver.find_binary() is None:
        pytest.skip(redisserver.MISSING)
    root = Path(tempfile.mkdtemp(prefix="arrears-redis-test-"))
    root.rmdir()
    server = redisserver.RedisServer(root)
    try:
        url = server.start()
        pid = server.pid()
        assert url.startswith("redis+socket://")
        with redis_client(url) as client:
            assert client.config_get("port") == {"port": "0"}      # no TCP port at all
            client.rpush("celery", "a", "b")
        assert queue_depth(url, ["celery", "other"]) == {"celery": 2, "other": 0}
    finally:
        server.stop()
    assert not root.exists() and not _running(pid)


def test_the_rate_limit_is_shared_by_every_limiter_on_the_broker(redis_url):
    """Two limiters (two worker processes) on one broker share a channel's 3 a second: the
    seventh message of one second waits for the next, whichever limiter sends it."""
    clock = [1000.25]
    waits = []

    def sleep(seconds):
        waits.append(seconds)
        clock[0] += seconds

    one = RateLimiter(redis_url, {"sms": 3}, clock=lambda: clock[0], sleep=sleep)
    two = RateLimiter(redis_url, {"sms": 3}, clock=lambda: clock[0], sleep=sleep)
    try:
        assert [one.wait("sms"), two.wait("sms"), one.wait("sms")] == [0, 0, 0]
        assert one.wait("email") == 0 and not waits          # a channel without a rate
        assert two.wait("sms") == pytest.approx(0.75)        # the fourth waits for second 1001
        assert int(clock[0]) == 1001
    finally:
        one.close()
        two.close()
