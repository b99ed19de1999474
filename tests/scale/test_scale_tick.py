"""The tick on Celery workers (issue 18), for real: PostgreSQL, Redis, `arrears worker` processes,
and a real HTTP server as every channel's provider, counting each contact it receives."""
from __future__ import annotations

import json
import logging
import subprocess
import threading
import time
from datetime import timedelta

import pytest

from arrears.engine.store import Store, tickpages
from arrears.engine.tick import distributed, run_tick
from arrears.engine.tick.service import Runtime
from arrears.engine.tick.settings import load_settings
from arrears.plugins.dispatch import Dispatcher
from arrears.plugins.testing import RecordingServer, plugin_manager
from tests.scale.scalekit import ACCOUNTS, ARREARS, tick_command, write_config
from tests.tick.tickkit import MONDAY, assert_consistent, dispatcher_config, keys_received, load, rows, settle
from tests.waiting import wait_until

pytestmark = [pytest.mark.postgresql, pytest.mark.slow]


def _runtime(world) -> Runtime:
    return Runtime(load_settings(db=world["db"], broker=world["broker"], config=str(world["config"]), environ={}))


def _state(store) -> tuple[list, list]:
    decisions = rows(store, "SELECT a.id, a.decision_key, a.next_evaluation_at FROM accounts a ORDER BY a.id")
    outbox = rows(store, "SELECT a.id, o.stage, o.attempt, o.episode_key, o.channel, o.status FROM outbox o "
                         "JOIN accounts a ON a.acct_no = o.acct_no ORDER BY a.id, o.stage, o.attempt")
    return decisions, outbox


def test_two_workers_decide_and_deliver_what_a_local_tick_does(world, tmp_path, portfolio, policy):
    """`arrears tick` with a broker, two `arrears worker`s: the same decision keys, next
    evaluations and contacts as the in-process tick over the same accounts at the same instant."""
    write_config(world["config"], world["sink"].url, visibility=60)      # no task is handed out twice here
    world["workers"].start(2)
    at = MONDAY.isoformat().replace("+00:00", "Z")
    done = tick_command(world, at, "--format", "json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    with RecordingServer() as local_sink, Store(f"sqlite:///{tmp_path / 'local.db'}") as local:
        load(local, *portfolio)
        expected = run_tick(local, policy, MONDAY, batch_size=25,
                            dispatcher=Dispatcher(plugin_manager(), dispatcher_config(local_sink.url)))
        local_state = _state(local)
    with Store(world["db"]) as store:
        assert _state(store) == local_state
        pages = tickpages.progress(store.engine, _only_tick(store, "evaluate"), "evaluate")
        workers = {w["worker"] for w in tickpages.workers(store.engine, 0)}
    for name in ("evaluated", "decisions_written", "actions_queued", "suppressed", "delivered", "failed"):
        assert summary[name] == getattr(expected, name), name
    assert expected.delivered > 10 and pages.statuses == {"done": 3}       # 60 accounts, 25 a page
    assert len(workers) == 2                                                # both took pages
    assert max(keys_received(world["sink"]).values()) == 1
    assert sum(keys_received(world["sink"]).values()) == expected.delivered


def _only_tick(store, kind: str) -> str:
    (tick,), = rows(store, "SELECT DISTINCT tick FROM tick_pages WHERE kind = :k", k=kind)
    return tick


def test_a_page_run_twice_is_harmless(world, policy):
    """A page the broker hands out twice is written once: the second run finds it done; and
    even one that runs again past that check (two workers at once) writes no decision or
    contact twice: the revision and decision-key checks and the act-once keys hold."""
    settings = load_settings(db=world["db"], config=str(world["config"]), environ={})
    runtime = Runtime(settings, dispatch=False)
    try:
        store = runtime.store
        page = store.due_accounts(int(MONDAY.timestamp()), 25, debtors=None)
        tickpages.queue(store.engine, "t1", "evaluate", [(0, len(page))], run_id=None, now=0)
        args = ("t1", 0, policy.digest, policy.digest, MONDAY.isoformat(), 300,
                page.acct_nos.tolist(), page.revisions.tolist())
        assert distributed.evaluate_page(runtime, *args) == "done"
        before = _state(store), rows(store, "SELECT count(*) FROM decisions")
        assert distributed.evaluate_page(runtime, *args) == "duplicate"
        with store.engine.begin() as conn:       # as if a second delivery had passed the status check
            conn.exec_driver_sql("UPDATE tick_pages SET status = 'queued'")
        assert distributed.evaluate_page(runtime, *args) == "done"
        assert (_state(store), rows(store, "SELECT count(*) FROM decisions")) == before
        assert before[1][0][0] == len(page) and len(before[0][1]) > 0
        assert store.verify_audit().ok
    finally:
        runtime.close()


def test_workers_killed_mid_page_and_mid_delivery_lose_nothing_and_send_nothing_twice(world, sink):
    """Three workers; one is SIGKILLed (with its pool) while pages of due accounts are queued
    (every worker holds one then), a new one is started, and another is killed while contacts
    are being delivered. The tasks the dead workers held are handed out again, every page is
    done, the provider receives no contact twice, and the next ticks settle every account
    exactly as decided."""
    write_config(world["config"], sink.url, batch_size=4)       # 15 pages of 4 accounts
    for _ in range(200):
        sink.reply(delay=0.03)                  # a provider that takes its time: the kill lands mid-delivery
    workers = world["workers"]
    first, second, _third = workers.start(3)
    runtime = _runtime(world)
    result = {}
    leader = threading.Thread(target=lambda: result.update(run=runtime.run(MONDAY, "cli")))
    leader.start()
    try:
        store = runtime.store
        done_pages = "SELECT count(*) FROM tick_pages WHERE kind = 'evaluate' AND status = 'done'"
        wait_until(lambda: rows(store, done_pages)[0][0] >= 2, 60, 0.01, what="the first pages")
        workers.kill(first)
        assert rows(store, "SELECT count(*) FROM tick_pages WHERE status = 'queued'")[0][0] > 0
        workers.start(1, wait=False)            # its replacement
        wait_until(lambda: len(sink.requests) >= 5, 60, 0.01, what="the first deliveries")
        workers.kill(second)
        leader.join(120)
        assert not leader.is_alive()
        _, summary = result["run"]
        assert summary.ran and summary.evaluated == ACCOUNTS
        assert rows(store, "SELECT count(*) FROM tick_pages WHERE status = 'queued'") == [(0,)]
        now, _ = settle(lambda at: runtime.run(at, "cli")[1], MONDAY, summary, step=timedelta(minutes=1))
        assert rows(store, "SELECT count(*) FROM outbox WHERE status = 'sending'") == [(0,)]
        statuses = assert_consistent(store, runtime.policy, sink, int(now.timestamp()))
        assert statuses.get("sent", 0) >= 10
    finally:
        leader.join(120)
        runtime.close()


def test_a_broker_restarted_mid_tick_loses_nothing(world, sink, tmp_path):
    """The pages are queued at a Redis that is then restarted empty (no persistence) before
    any worker took them: the leader finds the broker holding none of them and sends them
    again, and the tick ends with every account decided."""
    from tests.redisserver import RedisServer
    server = RedisServer(tmp_path / "redis")
    broker = server.start()
    try:
        write_config(world["config"], sink.url, visibility=60, resend_after=0.5)
        world["broker"] = world["workers"].broker = broker
        runtime = _runtime(world)
        result = {}
        leader = threading.Thread(target=lambda: result.update(run=runtime.run(MONDAY, "cli")))
        leader.start()
        try:
            from arrears.engine.tick.broker import queue_depth
            wait_until(lambda: queue_depth(broker, distributed.QUEUES)["arrears.pages"] == 3, 60, 0.02,
                       what="the three pages at the broker")
            server.stop(remove=False)
            server.start()                        # the same socket, nothing in it
            assert queue_depth(broker, distributed.QUEUES)["arrears.pages"] == 0
            world["workers"].start(2)
            leader.join(120)
            assert not leader.is_alive()
            _, summary = result["run"]
            assert summary.ran and summary.evaluated == ACCOUNTS and summary.delivered > 10
            assert max(keys_received(sink).values()) == 1
            assert rows(runtime.store, "SELECT count(*) FROM tick_pages WHERE status = 'queued'") == [(0,)]
        finally:
            leader.join(120)
            runtime.close()
    finally:
        world["workers"].stop()
        server.stop()


def test_a_task_taken_by_a_worker_that_died_before_holding_it_is_sent_again(world, sink, caplog):
    """Kombu's Redis transport hands a task out in two steps: the worker pops it from the queue,
    then records it as held (unacknowledged). A worker killed between the two loses the task:
    no visibility timeout brings it back. Here the pop is done by hand, as that worker would,
    before any worker runs: the leader sees the broker holding none of the tick's tasks and
    nothing finished for `resend_after`, sends the page again, and the tick completes."""
    from arrears.engine.tick.broker import held_by_workers, queue_depth, redis_client
    broker = world["broker"]
    write_config(world["config"], sink.url, visibility=60, resend_after=0.5)
    runtime = _runtime(world)
    result = {}
    leader = threading.Thread(target=lambda: result.update(run=runtime.run(MONDAY, "cli")))
    try:
        with caplog.at_level(logging.WARNING, logger="arrears"):
            leader.start()
            wait_until(lambda: queue_depth(broker, distributed.QUEUES)["arrears.pages"] == 3, 60, 0.02,
                       what="the three pages at the broker")
            with redis_client(broker) as client:
                assert client.rpop("arrears.pages") is not None      # taken, then the worker died
            assert held_by_workers(broker) == 0
            world["workers"].start(2)
            leader.join(120)
            assert not leader.is_alive()
        _, summary = result["run"]
        assert summary.ran and summary.evaluated == ACCOUNTS and summary.delivered > 10
        assert any("the broker holds none of its 1 queued evaluate pages: sending them again" in r.getMessage()
                   for r in caplog.records)
        assert rows(runtime.store, "SELECT count(*) FROM tick_pages WHERE status = 'queued'") == [(0,)]
        assert max(keys_received(sink).values()) == 1
    finally:
        leader.join(120)
        runtime.close()


def test_a_broker_down_while_the_leader_sends_gets_every_page_once_it_answers(world, sink, tmp_path, caplog):
    """Redis is stopped as the tick starts, so the leader cannot send its pages, and stopped again
    by the leader's own progress report once the last page is written, so it cannot send the
    delivery parts either; each time Redis is started again a few seconds later (empty, as
    without persistence). The leader sends what the broker did not take, with backoff, once it
    answers: every account decided, each page and part run once by a worker (none found done
    already), each contact delivered once."""
    from tests.redisserver import RedisServer
    server = RedisServer(tmp_path / "redis")
    broker = server.start()
    try:
        write_config(world["config"], sink.url, visibility=60)
        world["broker"] = world["workers"].broker = broker
        world["workers"].start(2)
        runtime = _runtime(world)
        second_outage = threading.Event()

        def progress(phase, done, total):      # in the leader: the delivery parts are sent right after
            if phase == "evaluate" and total and done == total and not second_outage.is_set():
                server.stop(remove=False)
                second_outage.set()

        server.stop(remove=False)
        result = {}
        caplog.set_level(logging.INFO, logger="arrears.tick")
        leader = threading.Thread(target=lambda: result.update(run=runtime.run(MONDAY, "cli", progress=progress)))
        leader.start()
        try:
            store = runtime.store
            wait_until(lambda: "the broker did not take a evaluate page" in caplog.text, 60, 0.05,
                       what="the leader's first failed send")
            # the leader goes on recording the pages after the first send failed: all three wait
            wait_until(lambda: rows(store, "SELECT status, count(*) FROM tick_pages GROUP BY status")
                       == [("queued", 3)], 60, 0.05, what="the three pages recorded and waiting")
            time.sleep(1.5)                    # it tries again, and fails, meanwhile
            server.start()
            wait_until(second_outage.is_set, 120, 0.05, what="the last page written")
            wait_until(lambda: "the broker did not take a deliver page" in caplog.text, 60, 0.05,
                       what="the leader's failed send of a delivery part")
            time.sleep(1.5)
            server.start()
            leader.join(180)
            assert not leader.is_alive()
            _, summary = result["run"]
            assert summary.ran and summary.evaluated == ACCOUNTS and summary.delivered > 10
            assert max(keys_received(sink).values()) == 1
            assert caplog.text.count("the broker answers again") == 2
            pages = dict(rows(store, "SELECT kind, count(*) FROM tick_pages WHERE status = 'done' GROUP BY kind"))
            assert pages["evaluate"] == 3 and rows(store, "SELECT count(*) FROM tick_pages WHERE status <> "
                                                          "'done'") == [(0,)]
            logs = b"".join(p.log.read_bytes() for p in world["workers"].procs)
            assert logs.count(b": done (") == pages["evaluate"] + pages["deliver"]      # each run once
            assert b": duplicate (" not in logs
        finally:
            leader.join(180)
            runtime.close()
    finally:
        world["workers"].stop()
        server.stop()


def test_a_broker_down_for_the_whole_page_timeout_fails_the_tick_saying_so(world, tmp_path):
    """The broker never answers: after `page_timeout` `arrears tick` fails with one line naming
    the pages never sent, the run is recorded failed with it, and those pages are `stopped`
    (not left queued for ever: the next tick does their work)."""
    write_config(world["config"], world["sink"].url, page_timeout=2, resend_after=1)
    world["broker"] = f"redis+socket://{tmp_path / 'nobody.sock'}"
    done = tick_command(world, MONDAY.isoformat().replace("+00:00", "Z"))
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "the broker could not be reached for 2 s: 3 evaluate pages of the tick were never sent (" \
        in done.stderr.strip().splitlines()[-1]
    with Store(world["db"]) as store:
        assert rows(store, "SELECT status, error LIKE 'ScaleTimeout: the broker could not be reached%' "
                           "FROM tick_runs") == [("failed", True)]
        stopped = rows(store, "SELECT status, counts FROM tick_pages")
    assert [status for status, _ in stopped] == ["stopped"] * 3
    assert all("the next tick does this page's work" in counts for _, counts in stopped)


def test_a_leader_killed_mid_tick_is_replaced_and_nothing_is_lost(world, sink):
    """The leader (`arrears tick`) is SIGKILLed while its pages are being written; once its
    lease expires another leader ticks: the dead run is recorded as failed, the pages it had
    queued are written all the same, and the next ticks settle every account, each contact
    delivered once."""
    import signal

    write_config(world["config"], sink.url, batch_size=4)
    world["config"].write_text(world["config"].read_text().replace("batch_size = 4", "batch_size = 4\nlease_ttl = 2"))
    world["workers"].start(2)
    at = MONDAY.isoformat().replace("+00:00", "Z")
    leader = subprocess.Popen([str(ARREARS), "tick", "--db", world["db"], "--broker", world["broker"], "--config",
                               str(world["config"]), "--at", at], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={"PATH": "/usr/bin:/bin"})
    runtime = _runtime(world)
    try:
        store = runtime.store
        wait_until(lambda: rows(store, "SELECT count(*) FROM tick_pages WHERE status = 'done'")[0][0] >= 2,
                   60, 0.01, what="the first pages")
        leader.send_signal(signal.SIGKILL)
        leader.wait(10)
        wait_until(lambda: rows(store, "SELECT count(*) FROM tick_pages WHERE status = 'queued'") == [(0,)],
                   60, 0.05, what="the dead leader's pages to be written")
        wait_until(lambda: runtime.run(MONDAY + timedelta(minutes=1), "cli")[1].ran, 30, 0.5,
                   what="a new leader to take the lease")
        now = MONDAY + timedelta(minutes=1)
        now, _ = settle(lambda at: runtime.run(at, "cli")[1], now, step=timedelta(minutes=1))
        assert rows(store, "SELECT status, error LIKE 'abandoned%' FROM tick_runs ORDER BY id LIMIT 1") == \
            [("failed", True)]
        statuses = assert_consistent(store, runtime.policy, sink, int(now.timestamp()))
        assert statuses.get("sent", 0) >= 10
    finally:
        if leader.poll() is None:
            leader.kill()
        runtime.close()
