"""Every tick run is recorded in `tick_runs`: scheduled, `arrears tick` and on request (the launcher)."""
from __future__ import annotations

import json
import threading
import time

import pytest

from arrears.engine.cli import main
from arrears.engine.store import tickruns
from arrears.engine.store.leases import acquire
from arrears.engine.tick.launcher import ShuttingDown, TickBusy, TickLauncher
from arrears.engine.tick.scheduler import TickScheduler
from arrears.engine.tick.service import Runtime, TickJob
from arrears.engine.tick.settings import TickSettings
from arrears.plugins.testing import plugin_manager
from tests.tick.tickkit import MONDAY, NOW, account, dispatcher_config, load, rows
from tests.waiting import wait_until

pytestmark = pytest.mark.also_postgresql


def runs(store) -> list:
    with store.engine.connect() as conn:
        return tickruns.page(conn, after=None, limit=100)


def settings_for(store, **extra) -> TickSettings:
    return TickSettings(database_url=store.url, **extra)


def test_arrears_tick_records_a_cli_run_with_its_summary(store, capsys):
    load(store, [account("A1"), account("A2")])
    assert main(["tick", "--db", store.url, "--at", "2026-11-23T10:00:00Z", "--no-dispatch", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    [run] = runs(store)
    assert (run.trigger, run.status, run.dispatch, run.error) == ("cli", "succeeded", False, None)
    assert run.at == int(MONDAY.timestamp())
    assert run.requested_at == run.started_at <= run.finished_at
    assert json.loads(run.summary) == printed and printed["evaluated"] == 2


def test_a_cli_run_skipped_by_the_lease_is_recorded_as_skipped(store, capsys):
    load(store, [account("A1")])
    acquire(store.engine, "tick", "other-host:1:x", now=time.time(), ttl=600)
    assert main(["tick", "--db", store.url, "--no-dispatch"]) == 3
    [run] = runs(store)
    assert run.status == "skipped" and "other-host:1:x" in json.loads(run.summary)["skipped_reason"]


def test_the_scheduled_job_records_scheduled_runs(store):
    load(store, [account("A1")])
    runtime = Runtime(settings_for(store), dispatch=False)
    try:
        job = TickJob(runtime, clock=lambda: NOW)
        job()
        job()
    finally:
        runtime.close()
    assert [(r.trigger, r.status) for r in runs(store)] == [("scheduled", "succeeded")] * 2
    assert [json.loads(r.summary)["evaluated"] for r in runs(store)] == [0, 1]     # newest first


def test_a_tick_stopped_part_way_is_recorded_as_stopped(store):
    load(store, [account(f"A{i}") for i in range(3)])
    runtime = Runtime(settings_for(store, batch_size=1), dispatch=False)
    calls = []

    def stop() -> bool:          # asked between pages: let the first page through, then stop
        calls.append(1)
        return len(calls) > 1

    try:
        run_id, summary = runtime.run(NOW, "cli", stop=stop)
    finally:
        runtime.close()
    [run] = runs(store)
    assert run.id == run_id and run.status == "stopped"
    assert 1 <= summary.evaluated < 3 and "stopped" in json.loads(run.summary)["skipped_reason"]


def test_a_failing_tick_is_recorded_as_failed_and_raised(store):
    load(store, [account("A1")])
    runtime = Runtime(settings_for(store), dispatch=False)

    def broken_progress(phase, done, total):
        raise RuntimeError("the progress display broke")

    try:
        with pytest.raises(RuntimeError):
            runtime.run(NOW, "cli", progress=broken_progress)
    finally:
        runtime.close()
    [run] = runs(store)
    assert (run.status, run.summary) == ("failed", None)
    assert run.error == "RuntimeError: the progress display broke" and run.finished_at is not None


def test_runs_of_dead_processes_are_marked_abandoned(store):
    engine, now = store.engine, time.time()
    dead = tickruns.create(engine, trigger="scheduled", at=0, holder="dead:1:a", dispatch=True, now=int(now) - 900)
    live = tickruns.create(engine, trigger="cli", at=0, holder="live:2:b", dispatch=True, now=int(now) - 900)
    young = tickruns.create(engine, trigger="api", at=0, holder="new:3:c", dispatch=False, now=int(now) - 5,
                            status="pending")
    acquire(engine, "other", "live:2:b", now=now, ttl=600)     # a different lease does not count
    acquire(engine, "tick", "live:2:b", now=now, ttl=600)
    assert tickruns.abandon_stale(engine, now, ttl=300) == 1
    with engine.connect() as conn:
        status = {i: (tickruns.get(conn, i).status, tickruns.get(conn, i).error) for i in (dead, live, young)}
    assert status == {dead: ("failed", tickruns.ABANDONED), live: ("running", None), young: ("pending", None)}


def test_the_pages_an_abandoned_run_left_queued_are_stopped(store):
    """A leader killed between recording a distributed tick's page and sending its task leaves a
    page no one will send: it is stopped with its run, not left queued for ever; the pages of
    a live run and those already done are left alone."""
    from arrears.engine.store import tickpages
    engine, now = store.engine, time.time()
    dead = tickruns.create(engine, trigger="cli", at=0, holder="dead:1:a", dispatch=True, now=int(now) - 900)
    live = tickruns.create(engine, trigger="cli", at=0, holder="live:2:b", dispatch=True, now=int(now) - 900)
    acquire(engine, "tick", "live:2:b", now=now, ttl=600)
    tickpages.queue(engine, "t-dead", "evaluate", [(0, 5), (1, 5)], run_id=dead, now=now - 900)
    tickpages.queue(engine, "t-live", "evaluate", [(0, 5)], run_id=live, now=now - 900)
    tickpages.finish_alone(engine, "t-dead", "evaluate", 0, "done", {"evaluated": 5}, "w:1", now - 800)
    assert tickruns.abandon_stale(engine, now, ttl=300) == 1
    dead_pages = tickpages.progress(engine, "t-dead", "evaluate")
    assert dead_pages.statuses == {"done": 1, "stopped": 1} and dead_pages.counts == {"evaluated": 5}
    assert dead_pages.notes == [tickpages.ABANDONED]
    assert tickpages.progress(engine, "t-live", "evaluate").statuses == {"queued": 1}
    with engine.begin() as conn:        # a task of the stopped page, still at the broker, writes nothing
        assert not tickpages.finish(conn, "t-dead", "evaluate", 1, "done", {"evaluated": 5}, "w:2", now)


def test_a_run_sweeps_the_abandoned_ones_first(store):
    dead = tickruns.create(store.engine, trigger="scheduled", at=0, holder="dead:1:a", dispatch=True,
                           now=int(time.time()) - 3600)
    runtime = Runtime(settings_for(store), dispatch=False)
    try:
        runtime.run(NOW, "cli")
    finally:
        runtime.close()
    assert [(r.id, r.status) for r in runs(store)][1:] == [(dead, "failed")]


class Deferred:
    """A `submit` that keeps the work until `release()`: a run stays pending meanwhile."""

    def __init__(self):
        self.work = []

    def __call__(self, work, run_id):
        self.work.append(work)

    def release(self):
        while self.work:
            self.work.pop(0)()


def test_the_launcher_runs_one_at_a_time_and_records_it(store):
    load(store, [account("A1")])
    runtime, submit = Runtime(settings_for(store), dispatch=False), Deferred()
    launcher = TickLauncher(runtime, submit=submit)
    try:
        run_id = launcher.launch(NOW)
        assert [(r.status, r.trigger, r.started_at) for r in runs(store)] == [("pending", "api", None)]
        with pytest.raises(TickBusy) as busy:
            launcher.launch(NOW)
        assert busy.value.run_id == run_id and len(runs(store)) == 1
        submit.release()
        [run] = runs(store)
        assert run.status == "succeeded" and json.loads(run.summary)["evaluated"] == 1
        assert run.holder != runtime.holder        # never a renewal of the scheduled tick's lease
        assert launcher.launch(NOW) != run_id      # free again
        submit.release()
    finally:
        launcher.close()
        runtime.close()
    with pytest.raises(ShuttingDown):
        launcher.launch(NOW)


class SlowToLetGo(Runtime):
    """A runtime whose run returns a while after it is recorded finished, as a thread winds up."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.recorded, self.let_go = threading.Event(), threading.Event()

    def run(self, *args, **kwargs):
        result = super().run(*args, **kwargs)
        self.recorded.set()
        self.let_go.wait(60)
        return result


def test_a_run_recorded_finished_does_not_hold_the_launcher(store):
    # A client polls GET /v1/ticks/{id} until the run is finished, then starts the next one:
    # it must not be told that the finished run is still running (409).
    load(store, [account("A1")])
    runtime = SlowToLetGo(settings_for(store), dispatch=False)
    launcher = TickLauncher(runtime)
    try:
        first = launcher.launch(NOW)
        assert runtime.recorded.wait(60)
        second = launcher.launch(NOW)
        assert second != first        # (a run not yet recorded finished still refuses: the test above)
        runtime.let_go.set()
        wait_until(lambda: all(r.status == "succeeded" for r in runs(store)), 60, 0.02, what="both runs")
    finally:
        runtime.let_go.set()
        launcher.close()
        runtime.close()


def test_a_submit_that_fails_leaves_a_failed_run_and_a_free_launcher(store):
    runtime = Runtime(settings_for(store), dispatch=False)

    def refuse(work, run_id):
        raise RuntimeError("executor full")

    try:
        with pytest.raises(RuntimeError):
            TickLauncher(runtime, submit=refuse).launch(NOW)
        [run] = runs(store)
        assert run.status == "failed" and run.error == "not started: executor full"
    finally:
        runtime.close()


def test_serve_runs_requested_ticks_in_the_scheduler_with_its_dispatcher(store, server):
    """`arrears serve`'s arrangement: the API attached to the scheduler, POST /v1/ticks delivers."""
    from arrears.api import create_app
    load(store, [account("A1"), account("A2")])
    settings = settings_for(store, interval=3600, dispatcher_config=dispatcher_config(server.url))
    runtime = Runtime(settings, plugin_manager=plugin_manager())
    scheduler = TickScheduler(TickJob(runtime), settings)
    app = create_app({"database_url": store.url, "api": {"keys": {"admin-key-000000000000000004": "admin"}}})
    scheduler.init_app(app)
    scheduler.start(run_now=False)
    try:
        client, auth = app.test_client(), {"Authorization": "Bearer admin-key-000000000000000004"}
        r = client.post("/v1/ticks", json={"at": "2026-11-23T10:00:00Z"}, headers=auth)
        assert r.status_code == 202 and r.get_json()["dispatch"] is True

        def finished():
            run = client.get(r.headers["Location"], headers=auth).get_json()
            return run if run["status"] not in ("pending", "running") else None

        run = wait_until(finished, 120, 0.05, what="the requested tick to finish")
        assert run["status"] == "succeeded" and run["summary"]["delivered"] == 2
        assert len(server.requests) == 2
    finally:
        scheduler.shutdown()
        runtime.close()
        app.extensions["arrears"].close()
    assert rows(store, "SELECT trigger, status FROM tick_runs") == [("api", "succeeded")]


def test_close_stops_a_run_that_has_not_started(store):
    load(store, [account("A1")])
    runtime, submit = Runtime(settings_for(store), dispatch=False), Deferred()
    launcher = TickLauncher(runtime, submit=submit)
    try:
        launcher.launch(NOW)
        launcher.close()          # shutdown: the stop is seen before the first page
        submit.release()
        [run] = runs(store)
        assert run.status == "skipped" and json.loads(run.summary)["evaluated"] == 0
        assert "stopped" in json.loads(run.summary)["skipped_reason"]
    finally:
        runtime.close()


def test_arrears_tick_uses_the_active_policy_unless_told_to_activate_its_file(store, tmp_path, caplog):
    from arrears.engine.policy.load import load_policy
    from arrears.policies import DEFAULT_POLICY
    source = DEFAULT_POLICY.read_text(encoding="utf-8")
    v2 = source.replace('version: "1.0.0"', 'version: "2.0.0"')      # as if uploaded through the API
    store.record_policy("default", "2.0.0", load_policy(v2, filename="v2").digest, v2)
    v3 = tmp_path / "v3.yaml"
    v3.write_text(source.replace('version: "1.0.0"', 'version: "3.0.0"'), encoding="utf-8")
    with caplog.at_level("WARNING", logger="arrears.policy"):
        assert main(["tick", "--db", store.url, "--policy", str(v3), "--no-dispatch"]) == 0
    assert "not the active policy" in caplog.text                       # logged, not activated
    assert store.active_policy()["version"] == "2.0.0"
    assert main(["tick", "--db", store.url, "--policy", str(v3), "--no-dispatch", "--activate-policy"]) == 0
    assert store.active_policy()["version"] == "3.0.0"
    assert rows(store, "SELECT version, active FROM policy_versions ORDER BY id") == [
        ("2.0.0", 0), ("3.0.0", 1)]


def test_figures_kept_after_the_ticks_are_computed_again_after_each_run(store):
    """`add_periodic(after_ticks=True)` (the console's dashboard): run at start, then again after a
    tick on request, without waiting for its interval; asked while it runs, it runs once more."""
    load(store, [account("A1")])
    settings = settings_for(store, interval=3600)
    runtime = Runtime(settings, dispatch=False)
    scheduler = TickScheduler(TickJob(runtime), settings)
    calls, gate = [], threading.Event()

    def work():
        calls.append(time.monotonic())
        gate.wait(60)

    scheduler.add_periodic(work, 60, "figures", "figures", after_ticks=True)
    scheduler.start(run_now=False)
    try:
        wait_until(lambda: len(calls) == 1, 60, 0.02, what="the run at start")
        run_id = scheduler.launcher.launch(NOW)           # finishes while the first run is going on
        wait_until(lambda: tickruns_status(store, run_id) == "succeeded", 120, 0.05, what="the tick")
        time.sleep(0.3)
        assert len(calls) == 1                            # never two at once
        gate.set()
        wait_until(lambda: len(calls) == 2, 60, 0.02, what="the run asked for by the tick")
        time.sleep(0.3)
        assert len(calls) == 2                            # once, not once per request
        run_id = scheduler.launcher.launch(NOW)
        wait_until(lambda: len(calls) == 3, 120, 0.05, what="the run after the second tick")
    finally:
        gate.set()
        scheduler.shutdown()
        runtime.close()


def tickruns_status(store, run_id: int) -> str:
    with store.engine.connect() as conn:
        return tickruns.get(conn, run_id).status
