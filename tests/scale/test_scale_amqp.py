"""The distributed tick on an AMQP broker, for real: a private RabbitMQ node (tests/amqpserver.py),
PostgreSQL, `arrears worker` processes, and a real HTTP server as every channel's provider.
The queue depth of `/metrics` and `arrears status` on AMQP, and the node helper itself: on
loopback only, its tasks kept across a restart, and nothing left running once stopped."""
from __future__ import annotations

import json
import math
import socket
import subprocess
import threading
import time
from collections import defaultdict
from pathlib import Path

import pytest

from arrears.api import create_app
from arrears.engine.cli import main
from arrears.engine.store import Store, tickpages
from arrears.engine.tick.broker import queue_depth
from arrears.engine.tick.distributed import QUEUES
from arrears.engine.tick.service import Runtime
from arrears.engine.tick.settings import load_settings
from tests import amqpserver
from tests.pgcluster import _running
from tests.scale.scalekit import ACCOUNTS, ARREARS, tick_command, write_config
from tests.tick.tickkit import MONDAY, ROUTES, keys_received, rows
from tests.waiting import wait_until

pytestmark = [pytest.mark.postgresql, pytest.mark.slow]
RATE = 2                    # messages a second on each channel, over every worker


def test_two_workers_on_amqp_decide_every_account_and_deliver_once(amqp_world):
    """`arrears tick --broker amqp://…` with two `arrears worker`s: every account decided, every
    page done, each contact received once by the provider; `arrears status` asks the workers
    over AMQP and finds both, and the queues empty; each channel's rate limit holds over both
    workers."""
    world = amqp_world
    write_config(world["config"], world["sink"].url, visibility=60, rates={name: RATE for name in ROUTES})
    arrivals = defaultdict(list)        # channel -> when each of its messages reached the provider
    world["sink"].respond(lambda request: arrivals[request.json()["message"]["channel"]].append(time.monotonic()))
    world["workers"].start(2)
    at = MONDAY.isoformat().replace("+00:00", "Z")
    done = tick_command(world, at, "--format", "json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["evaluated"] == ACCOUNTS and summary["decisions_written"] == ACCOUNTS
    received = keys_received(world["sink"])
    assert summary["delivered"] > 10 and sum(received.values()) == summary["delivered"]
    assert max(received.values()) == 1
    with Store(world["db"]) as store:
        assert rows(store, "SELECT kind, status, count(*) FROM tick_pages GROUP BY kind, status ORDER BY kind") \
            == [("deliver", "done", 3), ("evaluate", "done", 3)]
        assert rows(store, "SELECT count(*) FROM accounts WHERE decision_key IS NULL") == [(0,)]
        assert len({w["worker"] for w in tickpages.workers(store.engine, 0)}) == 2      # both took pages
    status = subprocess.run([str(ARREARS), "status", "--db", world["db"], "--broker", world["broker"],
                             "--format", "json"], capture_output=True, text=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin"}, check=False)
    assert status.returncode == 0, status.stderr
    shown = json.loads(status.stdout)
    assert len(shown["running_workers"]) == 2                   # a Celery ping over AMQP
    assert shown["queues"] == {"arrears.pages": 0, "arrears.delivery": 0}
    # Each channel's rate holds over both workers (counted in the database): n messages at RATE a
    # second take ceil(n / RATE) one-second windows, so they span more than ceil(n / RATE) - 2
    # seconds (the first at the end of its window, the last at the start of its own), less half a
    # second for the provider's varying latency. Counted per process, the span would be half.
    busiest = max(arrivals.values(), key=len)
    assert len(busiest) >= 5 * RATE, arrivals
    for channel, times in arrivals.items():
        assert max(times) - min(times) > math.ceil(len(times) / RATE) - 2.5, (channel, times)


def test_queue_depth_on_amqp_in_metrics_and_status(pg_url, amqp_url, capsys):
    """Tasks waiting in an AMQP queue are counted (a passive queue declare), on `/metrics` and
    in `arrears status`; a queue nobody declared yet holds none; an unreachable broker is
    `arrears_broker_up 0` with no depth shown rather than a made-up one."""
    from kombu import Connection, Queue
    with Connection(amqp_url) as conn, conn.Producer() as producer:
        for n in range(3):
            producer.publish({"n": n}, routing_key="arrears.pages", declare=[Queue("arrears.pages")])
    assert queue_depth(amqp_url, QUEUES) == {"arrears.pages": 3, "arrears.delivery": 0}
    text = create_app({"database_url": pg_url, "broker_url": amqp_url}).test_client().get("/metrics") \
        .get_data(as_text=True)
    assert 'arrears_queue_depth{queue="arrears.pages"} 3' in text and "arrears_broker_up 1" in text
    assert main(["status", "--db", pg_url, "--broker", amqp_url, "--format", "json", "--no-ping"]) == 0
    assert json.loads(capsys.readouterr().out)["queues"] == {"arrears.pages": 3, "arrears.delivery": 0}
    closed = f"amqp://guest:guest@127.0.0.1:{_closed_port()}//"
    text = create_app({"database_url": pg_url, "broker_url": closed}).test_client().get("/metrics") \
        .get_data(as_text=True)
    assert "arrears_broker_up 0" in text and "arrears_queue_depth" not in text
    assert main(["status", "--db", pg_url, "--broker", closed, "--no-ping"]) == 0
    assert "queues: unknown: cannot reach the broker" in capsys.readouterr().out


def test_on_amqp_the_rate_limit_is_shared_through_the_database(pg_url, amqp_url):
    """Two limiters (two worker processes) on an AMQP broker share a channel's 3 a second through
    the database (`rate_windows`): the fourth message of one second waits for the next, whichever
    limiter sends it; old windows are removed as new seconds begin."""
    from arrears.engine.tick.broker import RateLimiter
    clock, waits = [1000.25], []

    def sleep(seconds):
        waits.append(seconds)
        clock[0] += seconds

    with Store(pg_url) as store:
        one, two = (RateLimiter(amqp_url, {"sms": 3}, engine=store.engine, clock=lambda: clock[0], sleep=sleep)
                    for _ in range(2))
        assert one.shared and two.shared
        assert [one.wait("sms"), two.wait("sms"), one.wait("sms")] == [0, 0, 0]
        assert one.wait("email") == 0 and not waits                  # a channel without a rate
        assert two.wait("sms") == pytest.approx(0.75)                # the fourth waits for second 1001
        assert int(clock[0]) == 1001
        clock[0] = 1010.0
        assert one.wait("sms") == 0
        assert rows(store, "SELECT channel, second, sent FROM rate_windows") == [("sms", 1010, 1)]
    assert not RateLimiter(amqp_url, {"sms": 3}).shared                # no database: this process alone


def test_a_rabbitmq_restarted_mid_tick_keeps_its_pages_and_the_node_leaves_nothing_behind(amqp_world, tmp_path):
    """A node of its own: listening on loopback only. The leader queues the tick's three pages
    with no worker running; the node is stopped and started again (durable queues, persistent
    messages): the pages are still there, the workers started then write them once (the leader
    does not take the empty queue, once the workers hold every page, for pages lost), and the
    tick ends with every account decided and each contact delivered once. Stopped, the node
    leaves no process (epmd included), no listening port and no directory."""
    world = amqp_world
    server = amqpserver.RabbitServer(tmp_path / "rabbit")
    broker = server.start()
    try:
        assert "127.0.0.1" in _listening(server.ports.values()) <= {"127.0.0.1", "::1"}
        # an empty queue on AMQP is no reason to resend
        write_config(world["config"], world["sink"].url, visibility=60, resend_after=0.3)
        world["broker"] = world["workers"].broker = broker
        runtime = Runtime(load_settings(db=world["db"], broker=broker, config=str(world["config"]), environ={}))
        result = {}
        leader = threading.Thread(target=lambda: result.update(run=runtime.run(MONDAY, "cli")))
        leader.start()
        try:
            wait_until(lambda: queue_depth(broker, QUEUES)["arrears.pages"] == 3, 60, 0.05,
                       what="the three pages at the broker")
            server.stop(remove=False)
            server.start()
            assert queue_depth(broker, QUEUES)["arrears.pages"] == 3
            world["workers"].start(2)
            leader.join(180)
            assert not leader.is_alive()
            _, summary = result["run"]
            assert summary.ran and summary.evaluated == ACCOUNTS and summary.delivered > 10
            assert max(keys_received(world["sink"]).values()) == 1
            assert rows(runtime.store, "SELECT count(*) FROM tick_pages WHERE status = 'queued'") == [(0,)]
            logs = b"".join(p.log.read_bytes() for p in world["workers"].procs)
            assert logs.count(b": duplicate (") == 0           # nothing sent twice, nothing done twice
        finally:
            leader.join(180)
            runtime.close()
    finally:
        world["workers"].stop()
        pids, ports = server.pids(), list(server.ports.values())
        server.stop()
    assert set(pids) == {"server", "beam", "epmd"}
    assert not any(_running(pid) for pid in pids.values())
    assert not _listening(ports) and not Path(server.root).exists()


def _listening(ports) -> set[str]:
    """The addresses listening on any of `ports` (from /proc/net/tcp and tcp6)."""
    wanted, found = {int(p) for p in ports}, set()
    for table, v6 in (("/proc/net/tcp", False), ("/proc/net/tcp6", True)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, port = local.split(":")
            if state == "0A" and int(port, 16) in wanted:
                raw = bytes.fromhex(address)
                words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
                found.add(socket.inet_ntop(socket.AF_INET6 if v6 else socket.AF_INET, words))
    return found


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
