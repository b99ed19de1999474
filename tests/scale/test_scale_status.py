"""What the distributed tick shows: `/metrics` (queue depth, pages in flight, the workers'
pages) and `arrears status`, on a real PostgreSQL database and a real Redis broker."""
from __future__ import annotations

import json

import pytest

from arrears.api import create_app
from arrears.engine.cli import main
from arrears.engine.store import Store, tickpages

pytestmark = pytest.mark.postgresql


@pytest.fixture
def busy(pg_url, redis_url):
    """A tick with one page done by worker `w1:1` and two still queued, and three tasks
    waiting in the broker's pages queue."""
    from arrears.engine.tick.broker import redis_client
    with Store(pg_url) as store:
        tickpages.queue(store.engine, "t1", "evaluate", [(0, 10), (1, 10), (2, 7)], run_id=None, now=100.0)
        assert tickpages.finish_alone(store.engine, "t1", "evaluate", 0, "done", {"evaluated": 10}, "w1:1", 1e10)
        assert not tickpages.finish_alone(store.engine, "t1", "evaluate", 0, "done", {"evaluated": 10}, "w2:1", 1e10)
    with redis_client(redis_url) as client:
        client.rpush("arrears.pages", "a", "b", "c")
    return pg_url, redis_url


def test_metrics_show_queue_depth_pages_in_flight_and_worker_pages(busy):
    pg_url, redis_url = busy
    app = create_app({"database_url": pg_url, "broker_url": redis_url})
    text = app.test_client().get("/metrics").get_data(as_text=True)
    assert 'arrears_queue_depth{queue="arrears.pages"} 3' in text
    assert 'arrears_queue_depth{queue="arrears.delivery"} 0' in text
    assert 'arrears_pages_in_flight{kind="evaluate"} 2' in text
    assert "arrears_broker_up 1" in text
    assert 'arrears_worker_pages_total{worker="w1:1"} 1' in text          # the second finish did not count
    assert 'arrears_worker_items_total{worker="w1:1"} 10' in text


def test_metrics_without_a_broker_say_nothing_of_it(pg_url):
    text = create_app({"database_url": pg_url}).test_client().get("/metrics").get_data(as_text=True)
    assert "arrears_queue_depth" not in text and "arrears_pages_in_flight" not in text


def test_status_lists_queues_pages_workers_and_ticks(busy, capsys):
    pg_url, redis_url = busy
    assert main(["status", "--db", pg_url, "--broker", redis_url, "--format", "json", "--no-ping"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["queues"] == {"arrears.pages": 3, "arrears.delivery": 0}
    assert shown["pages_in_flight"] == {"evaluate": 2, "deliver": 0}
    assert [w["worker"] for w in shown["workers"]] == ["w1:1"] and shown["ticks"] == []
    assert main(["status", "--db", pg_url, "--broker", redis_url]) == 0       # asks the broker who runs
    text = capsys.readouterr().out
    assert "workers running now: 0" in text and "pages in flight: evaluate 2, deliver 0" in text


def test_old_finished_pages_are_pruned_and_queued_ones_kept(pg_url):
    day = 86400.0
    with Store(pg_url) as store:
        tickpages.queue(store.engine, "old", "evaluate", [(0, 1), (1, 1)], run_id=None, now=0.0)
        tickpages.queue(store.engine, "new", "evaluate", [(0, 1)], run_id=None, now=10 * day)
        for tick in ("old", "new"):
            tickpages.finish_alone(store.engine, tick, "evaluate", 0, "done", {}, "w", 10 * day)
        assert tickpages.prune(store.engine, 10 * day) == 1
        assert tickpages.queued_pages(store.engine, "old", "evaluate") == [1]
        assert tickpages.progress(store.engine, "new", "evaluate").statuses == {"done": 1}
