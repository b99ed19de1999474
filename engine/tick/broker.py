"""The broker of the distributed tick (issue 18): its URL, a client, queue depth, shared rate limits.

    broker_kind("redis://host:6379/0")          # "redis" (or "amqp"); BrokerError for anything else
    with redis_client(url) as r: r.ping()
    depth = queue_depth(url, QUEUES)             # messages waiting per queue (Redis or AMQP)
    limiter = RateLimiter(url, {"sms": 10.0}, engine=store.engine)   # at most 10 sms a second, all workers
    limiter.wait("sms")

Celery (kombu) spells a Redis server on a Unix socket `redis+socket:///path/redis.sock`;
the redis client library spells it `unix:///path/redis.sock`: `redis_client` takes either.
Nothing here is imported by the embedded default (SQLite, no broker): the `celery` and
`redis` packages are the optional extra `arrears[scale]`.
"""
from __future__ import annotations

import time

from arrears.engine.domain.errors import ArrearsError

SCHEMES = {"redis": "redis", "rediss": "redis", "redis+socket": "redis", "amqp": "amqp", "amqps": "amqp",
           "pyamqp": "amqp"}
MISSING = ("the distributed tick needs Celery and the Redis client: pip install 'arrears[scale]'")


class BrokerError(ArrearsError):
    """The broker URL is unusable, the extra is not installed, or the broker cannot be reached."""


def broker_kind(url: str) -> str:
    """"redis" or "amqp" for a broker URL; BrokerError naming the URL's scheme otherwise."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in SCHEMES:
        raise BrokerError(f"--broker: {url!r} is not a broker URL: expected redis://, rediss://, "
                          "redis+socket:// or amqp://")
    return SCHEMES[scheme]


def redis_client(url: str):
    """A redis-py client of the Redis server at `url` (a Celery broker URL)."""
    try:
        import redis
    except ImportError:
        raise BrokerError(MISSING) from None
    if url.startswith("redis+socket://"):
        path, _, query = url[len("redis+socket://"):].partition("?")
        db = 0
        for part in query.split("&"):
            if part.startswith(("virtual_host=", "db=")):
                db = int(part.split("=", 1)[1] or 0)
        return redis.Redis(unix_socket_path=path, db=db, socket_timeout=10)
    return redis.Redis.from_url(url, socket_timeout=10)


def queue_depth(url: str, queues) -> dict[str, int]:
    """Messages waiting in each of `queues`: not yet taken by a worker (those a worker holds
    unacknowledged are not counted, on either broker). Redis: the length of the queue's list;
    AMQP: the message count of a passive queue declare (a queue never declared holds none).
    BrokerError if the broker cannot be reached."""
    if broker_kind(url) == "amqp":
        return _amqp_depth(url, queues)
    import redis
    try:
        with redis_client(url) as client:
            return {name: int(client.llen(name)) for name in queues}
    except redis.exceptions.RedisError as exc:
        raise BrokerError(f"cannot reach the broker: {exc}") from exc


def _amqp_depth(url: str, queues) -> dict[str, int]:
    try:
        import amqp
        from kombu import Connection
        from kombu.exceptions import KombuError
    except ImportError:
        raise BrokerError(MISSING) from None
    depth = {}
    try:
        with Connection(url, connect_timeout=10) as conn:
            for name in queues:
                channel = conn.channel()
                try:
                    _, depth[name], _ = channel.queue_declare(name, passive=True)
                except amqp.exceptions.NotFound:        # the broker closed the channel
                    depth[name] = 0
                else:
                    channel.close()
    except (OSError, KombuError, amqp.exceptions.AMQPError) as exc:
        raise BrokerError(f"cannot reach the broker: {exc}") from exc
    return {name: int(n) for name, n in depth.items()}


def held_by_workers(url: str) -> int | None:
    """Tasks taken by workers and not yet acknowledged (kombu's `unacked` hash on a Redis
    broker; None on AMQP, whose protocol does not tell). BrokerError if unreachable."""
    if broker_kind(url) != "redis":
        return None
    import redis
    try:
        with redis_client(url) as client:
            return int(client.hlen("unacked"))
    except redis.exceptions.RedisError as exc:
        raise BrokerError(f"cannot reach the broker: {exc}") from exc


class RateLimiter:
    """At most `rates[channel]` messages a second on each channel, across every worker process.

    A fixed one-second window per channel: `wait(channel)` returns at once while the window
    has room, else sleeps to the next second. The windows are counted where every worker sees
    them: in Redis (`INCR` of a key that expires) on a Redis broker; in the database
    (`ratewindows.take`, given its `engine`) on an AMQP broker, which has no shared counter.
    Channels without a rate are not limited. With neither (a single process, a test) the
    process counts alone (`shared` is False).
    """

    def __init__(self, url: str | None, rates: dict[str, float], *, engine=None, clock=time.time,
                 sleep=time.sleep):
        self.rates = {name: float(rate) for name, rate in rates.items()}
        self.clock, self.sleep = clock, sleep
        self._client = redis_client(url) if url and self.rates and broker_kind(url) == "redis" else None
        self._engine = engine if self._client is None and self.rates else None
        self._local: dict[tuple[str, int], int] = {}
        self.shared = self._client is not None or self._engine is not None

    def wait(self, channel: str) -> float:
        """Block until `channel` may send one more message; returns the seconds waited."""
        rate = self.rates.get(channel)
        if not rate:
            return 0.0
        waited = 0.0
        while True:
            now = self.clock()
            second = int(now)
            if self._take(channel, second) <= rate:
                return waited
            pause = second + 1 - now
            self.sleep(pause)
            waited += pause

    def _take(self, channel: str, second: int) -> int:
        if self._engine is not None:
            from arrears.engine.store import ratewindows
            return ratewindows.take(self._engine, channel, second)
        if self._client is None:
            key = (channel, second)
            self._local = {k: v for k, v in self._local.items() if k[1] >= second - 1}
            self._local[key] = self._local.get(key, 0) + 1
            return self._local[key]
        key = f"arrears:rate:{channel}:{second}"
        with self._client.pipeline() as pipe:
            pipe.incr(key)
            pipe.expire(key, 5)
            return int(pipe.execute()[0])

    def close(self) -> None:
        """Close the Redis connection."""
        if self._client is not None:
            self._client.close()
