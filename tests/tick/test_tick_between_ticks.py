"""Cron ticks queue what may go out before the next tick, for its own time, and `arrears serve`
delivers it then: a daily tick at 19:00 UTC (06:00 in Sydney) does not make a call a day late
because the calling window opens at 07:30 local.

The scheduler's real trigger computes the next fire times; every instant is passed in.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from arrears.engine.decisions.core import decide_batch
from arrears.engine.domain.batch import Batch
from arrears.engine.tick.scheduler import (
    DELIVERY_ID,
    TickScheduler,
    horizon_until_next,
    make_trigger,
    next_delivery,
    next_fire,
)
from arrears.engine.tick.service import Runtime, TickJob
from arrears.engine.tick.settings import TickSettings
from arrears.plugins.testing import plugin_manager
from tests.debtorcase import CALLS, account
from tests.tick.tickkit import dispatcher_config, load, rows

UTC = timezone.utc
TICK = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)         # Monday 19:00 UTC: Tuesday 06:00 in Sydney
DAILY = "0 19 * * *"


def victorian():
    """A consumer in Victoria with a call due: no call before 07:30 local on a weekday."""
    return account("AU-1", "D1")


def test_the_real_trigger_gives_each_tick_the_time_until_the_next():
    daily = make_trigger(TickSettings(cron=DAILY))
    assert next_fire(daily, TICK) == TICK + timedelta(days=1)
    assert next_fire(daily, TICK - timedelta(seconds=1)) == TICK
    assert horizon_until_next(daily, TICK, 300) == 86_400
    assert horizon_until_next(daily, TICK + timedelta(hours=20), 300) == 4 * 3600
    every = make_trigger(TickSettings(interval=600))
    assert horizon_until_next(every, TICK, 300) == 600
    assert horizon_until_next(every, TICK, 900) == 900        # never less than the configured horizon


@pytest.fixture
def paused():
    """Start schedulers paused (their jobs are stored as when serving, none runs by itself)."""
    started = []

    def start(scheduler):
        scheduler.scheduler.start(paused=True)
        started.append(scheduler)
        return scheduler
    yield start
    for scheduler in started:
        scheduler.scheduler.shutdown(wait=False)


@pytest.fixture
def runtime(db_url, server, tmp_path):
    """`arrears serve`'s runtime: a daily cron tick, the call policy, every channel to `server`."""
    policy = tmp_path / "calls.yaml"
    policy.write_text(CALLS, encoding="utf-8")
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "t.en.j2").write_text("Call {{ account.id }}.\n", encoding="utf-8")
    config = {**dispatcher_config(server.url), "templates": {"dirs": [str(templates)]},
              "routes": {"call": "webhook", "review": "webhook"}}    # the call policy's channels only
    settings = TickSettings(database_url=db_url, policy_path=policy, cron=DAILY, dispatcher_config=config)
    rt = Runtime(settings, plugin_manager=plugin_manager())
    yield rt
    rt.close()


def test_a_daily_tick_queues_the_contact_for_its_time_and_a_delivery_run_sends_it(runtime, server, paused):
    load(runtime.store, [victorian()], now=TICK - timedelta(days=1))
    acc, history = runtime.store.get_account("AU-1")
    decision = decide_batch(Batch.from_objects([acc], [history]), runtime.policy, TICK).decision(0)
    opens = decision.action.not_before                     # the calling window opens (20:30 UTC)
    assert TICK < opens < TICK + timedelta(days=1)

    clock = [TICK]
    scheduler = paused(TickScheduler(TickJob(runtime, clock=lambda: clock[-1]), runtime.settings))
    scheduler.job()                                         # the scheduled tick at 06:00 in Sydney
    assert scheduler.job.last.actions_queued == 1 and scheduler.job.last.delivered == 0
    (status, next_attempt_at), = rows(runtime.store, "SELECT status, next_attempt_at FROM outbox")
    assert (status, next_attempt_at) == ("pending", int(opens.timestamp()))
    planned = scheduler.scheduler.get_job(DELIVERY_ID)
    assert planned is not None and planned.trigger.run_date == opens
    assert next_delivery(runtime.store, scheduler.trigger, TICK) == opens

    clock.append(opens - timedelta(seconds=1))
    scheduler.delivery()                                    # too early: nothing goes out
    assert scheduler.delivery.last.delivered == 0 and not server.requests
    clock.append(opens)
    scheduler.delivery()                                    # the delivery run at 07:30 in Sydney
    assert scheduler.delivery.last.delivered == 1 and len(server.requests) == 1
    assert scheduler.scheduler.get_job(DELIVERY_ID) is None      # nothing else before the next tick
    runs = rows(runtime.store, "SELECT trigger, status FROM tick_runs ORDER BY id")
    assert runs == [("scheduled", "succeeded"), ("delivery", "succeeded"), ("delivery", "succeeded")]


def test_with_the_configured_horizon_alone_it_waited_for_the_next_tick(runtime, server):
    """What a daily tick did before: a five-minute horizon, nothing queued until tomorrow."""
    load(runtime.store, [victorian()], now=TICK - timedelta(days=1))
    _, summary = runtime.run(TICK, "cli")
    assert summary.actions_queued == 0 and rows(runtime.store, "SELECT id FROM outbox") == []


def test_a_contact_due_after_the_next_tick_is_left_to_it(runtime, paused):
    load(runtime.store, [victorian()], now=TICK - timedelta(days=1))
    scheduler = paused(TickScheduler(TickJob(runtime, clock=lambda: TICK), runtime.settings))
    hourly = make_trigger(TickSettings(cron="0 * * * *"))
    scheduler.trigger = hourly                              # ticks every hour: 20:00 comes first
    scheduler.job.attach(lambda now: horizon_until_next(hourly, now, 300), scheduler.plan_delivery)
    scheduler.job()
    assert scheduler.job.last.actions_queued == 0           # 20:30 is beyond this tick's hour
    assert scheduler.scheduler.get_job(DELIVERY_ID) is None


def test_a_run_that_found_the_lease_held_tries_a_delivery_again_soon(runtime, paused):
    from arrears.engine.tick.runner import TickSummary
    scheduler = paused(TickScheduler(TickJob(runtime, clock=lambda: TICK), runtime.settings))
    scheduler.clock = lambda: TICK
    held = TickSummary(at="2026-11-23T19:00:00Z", skipped_reason="another process holds the tick lease")
    assert scheduler.plan_delivery(TICK, held) == TICK + timedelta(seconds=60)
    assert scheduler.plan_delivery(TICK, TickSummary(at="2026-11-23T19:00:00Z")) is None
    assert scheduler.scheduler.get_job(DELIVERY_ID) is None


def test_a_tick_on_request_under_the_scheduler_queues_up_to_the_next_tick_too(runtime, paused):
    """POST /v1/ticks under `arrears serve` runs through the scheduler's launcher."""
    load(runtime.store, [victorian()], now=TICK - timedelta(days=1))
    scheduler = paused(TickScheduler(TickJob(runtime, clock=lambda: TICK), runtime.settings))
    scheduler.launcher.submit = lambda work, run_id: work()        # run it here, now
    scheduler.launcher.launch(TICK)
    (status, trigger), = rows(runtime.store, "SELECT status, trigger FROM tick_runs")
    assert (status, trigger) == ("succeeded", "api")
    (next_attempt_at,), = rows(runtime.store, "SELECT next_attempt_at FROM outbox")
    assert scheduler.scheduler.get_job(DELIVERY_ID).trigger.run_date.timestamp() == next_attempt_at
