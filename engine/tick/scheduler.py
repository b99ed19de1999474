"""`arrears serve`'s scheduler: APScheduler 3.x running the tick in a background thread.

The job is added with `max_instances=1` (a tick that overruns its interval is not
started again beside itself; the late run is skipped and logged by APScheduler),
`coalesce=True` (runs missed while the process was busy or suspended collapse into
one), and `misfire_grace_time` (a run may start that late and still count). These
protect one process; the database lease protects against other processes.

The first tick runs at start-up, so a restart after downtime catches up at once.

**Between ticks.** Each tick queues the contacts that may go out before the scheduler's
next tick (its horizon is the time until the trigger's next fire time, at least the
configured `tick.horizon`), each for its own time (the outbox row's `next_attempt_at`).
After every run the scheduler plans a one-off delivery run (`DeliveryJob`, recorded
with trigger `delivery`) at the earliest pending contact's time if that comes before the
next tick. So with a daily cron tick at 06:00 UTC, a reminder whose contact window opens
at 08:00 local goes out at 08:00 that day, not at the next day's tick.
`TickScheduler` is also what the HTTP API attaches like a Flask extension
(`init_app(app)`), so `arrears serve` runs both in one process; a tick requested through
the API (`POST /v1/ticks`) then runs in the scheduler's executor, with its dispatcher,
through `scheduler.launcher` (see `arrears.engine.tick.launcher`).
"""
from __future__ import annotations

import logging
import math
import signal
import threading
from datetime import datetime, timedelta, timezone

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from arrears.engine.domain.clock import as_epoch, from_epoch
from arrears.engine.store import outboxstore, safe_url
from arrears.engine.store.db import read_transaction
from arrears.engine.tick.launcher import TickLauncher
from arrears.engine.tick.service import DeliveryJob, Runtime, TickJob
from arrears.engine.tick.settings import TickSettings

JOB_ID = "arrears-tick"
DELIVERY_ID = "arrears-delivery"
RETRY_SKIPPED = 60          # seconds: a run that found the lease held plans a delivery this much later
log = logging.getLogger("arrears.tick")


def make_trigger(settings: TickSettings):
    """An IntervalTrigger every `settings.interval` seconds, or a CronTrigger for
    `settings.cron` (standard crontab fields, evaluated in UTC)."""
    if settings.cron:
        return CronTrigger.from_crontab(settings.cron, timezone="UTC")
    return IntervalTrigger(seconds=settings.interval, timezone="UTC")


def next_fire(trigger, now: datetime) -> datetime | None:
    """When `trigger` fires next after `now` (strictly; None if never again)."""
    return trigger.get_next_fire_time(now, now)


def horizon_until_next(trigger, now: datetime, minimum: int) -> int:
    """Seconds from `now` to the trigger's next fire time (at least `minimum`): a tick at
    `now` queues every contact that may go out before the next one."""
    nxt = next_fire(trigger, now)
    if nxt is None:
        return minimum
    return max(minimum, math.ceil((nxt - now).total_seconds()))


def next_delivery(store, trigger, now: datetime) -> datetime | None:
    """The earliest time after `now` at which a queued contact may go out, if that comes
    before the trigger's next tick (else None: that tick delivers it)."""
    with read_transaction(store.engine) as conn:
        at = outboxstore.next_pending_after(conn, as_epoch(now))
    if at is None:
        return None
    when, nxt = from_epoch(at), next_fire(trigger, now)
    return when if nxt is None or when < nxt else None


class _Refresh:
    """A periodic job that a finished tick may ask for again: asked while it runs, it runs once
    more when it ends (never two at once, never a request lost, never a skipped-run warning)."""

    def __init__(self, work):
        self.work = work
        self._lock = threading.Lock()
        self._running = self._again = False

    def again_if_running(self) -> bool:
        """If a run is going on, have it run once more when it ends and say so (True)."""
        with self._lock:
            if self._running:
                self._again = True
            return self._running

    def __call__(self) -> None:
        with self._lock:
            if self._running:
                self._again = True
                return
            self._running = True
        try:
            while True:
                self.work()
                with self._lock:       # checked and let go in one step: no request falls between
                    if not self._again:
                        self._running = False
                        return
                    self._again = False
        except BaseException:
            with self._lock:
                self._running = self._again = False
            raise


class TickScheduler:
    """A BackgroundScheduler with the one tick job, and delivery runs between its ticks."""

    def __init__(self, job: TickJob, settings: TickSettings):
        self.job, self.settings = job, settings
        self.trigger = make_trigger(settings)
        job.attach(lambda now: horizon_until_next(self.trigger, now, settings.horizon), self.after_run)
        self.delivery = DeliveryJob(job.runtime, stop=job.stop, clock=job.clock)
        self.delivery.attach(None, self.after_run)
        self._after_ticks: list[tuple[str, _Refresh]] = []     # periodic jobs a finished run asks for
        self.clock = lambda: datetime.now(timezone.utc)     # when a skipped delivery is tried again
        self.scheduler = BackgroundScheduler(timezone="UTC")
        # Ticks on request share the job's runtime (dispatcher included) and its stop event.
        self.launcher = TickLauncher(job.runtime, submit=self._submit, stop=job.stop, horizon=job.horizon,
                                     after=self.after_run)

    def _submit(self, work, run_id: int) -> None:
        """Run `work` once, now, in the scheduler's executor (shutdown waits for it)."""
        self.scheduler.add_job(work, id=f"arrears-tick-run-{run_id}", name=f"arrears tick run {run_id}",
                               misfire_grace_time=None)

    def start(self, *, run_now: bool = True) -> None:
        """Add the tick job and start the scheduler thread."""
        extra = {"next_run_time": datetime.now(timezone.utc)} if run_now else {}
        self.scheduler.add_job(self.job, self.trigger, id=JOB_ID, name="arrears tick",
                               max_instances=1, coalesce=True,
                               misfire_grace_time=self.settings.misfire_grace_time, **extra)
        self.scheduler.start()

    def add_periodic(self, work, minutes: float, job_id: str, name: str, *, after_ticks: bool = False) -> None:
        """Run `work()` now and then every `minutes` in the scheduler's threads, one run at a time
        (a run still going when the next is due is not doubled): figures kept for pages (the
        console's dashboard), beside the ticks. With `after_ticks`, also after every tick or
        delivery run that ran (scheduled or on request): at once, or once more when the run
        going on ends, so the figures follow the ticks rather than the clock."""
        refresh = _Refresh(work)
        self.scheduler.add_job(refresh, "interval", minutes=minutes, id=job_id, name=name, max_instances=1,
                               coalesce=True, misfire_grace_time=None, next_run_time=datetime.now(timezone.utc))
        if after_ticks:
            self._after_ticks.append((job_id, refresh))

    def after_run(self, now: datetime, summary=None) -> datetime | None:
        """What follows each tick and delivery run: the next delivery run is planned
        (`plan_delivery`, whose time is returned), and the periodic jobs added `after_ticks` are
        asked for when the run ran."""
        when = self.plan_delivery(now, summary)
        if summary is not None and summary.ran:
            for job_id, refresh in self._after_ticks:
                if not refresh.again_if_running() and self.scheduler.get_job(job_id) is not None:
                    self.scheduler.modify_job(job_id, next_run_time=datetime.now(timezone.utc))
        return when

    def plan_delivery(self, now: datetime, summary=None) -> datetime | None:
        """Schedule the delivery run for the first contact due after `now` and before the
        next tick (replacing any planned one), or drop the planned one; returns its time.

        After a run that did not run (`summary.ran` false: another holder had the lease),
        a delivery is tried again `RETRY_SKIPPED` seconds later, so a contact whose time
        came meanwhile is not left to the next tick.
        """
        when = next_delivery(self.job.runtime.store, self.trigger, now)
        if summary is not None and not summary.ran:
            retry = self.clock() + timedelta(seconds=RETRY_SKIPPED)
            when = retry if when is None else min(when, retry)
        if when is None:
            if self.scheduler.get_job(DELIVERY_ID) is not None:
                self.scheduler.remove_job(DELIVERY_ID)
            return None
        self.scheduler.add_job(self.delivery, "date", run_date=when, id=DELIVERY_ID, name="arrears delivery",
                               replace_existing=True, max_instances=1, coalesce=True, misfire_grace_time=None)
        return when

    def next_run(self) -> datetime | None:
        """When the tick runs next (None when stopped)."""
        job = self.scheduler.get_job(JOB_ID)
        return job.next_run_time if job else None

    def shutdown(self) -> None:
        """Ask a running tick to stop at its next page or delivery, then wait for it."""
        self.job.stop.set()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)

    def init_app(self, app) -> None:
        """Attach to a Flask app (`app.extensions["arrears_scheduler"]`): `POST /v1/ticks`
        then runs ticks through `self.launcher`."""
        app.extensions["arrears_scheduler"] = self


def serve(settings: TickSettings, *, stop: threading.Event | None = None, runtime: Runtime | None = None) -> int:
    """Run the scheduler until SIGINT/SIGTERM (or `stop` is set); returns an exit status."""
    stop = stop or threading.Event()
    runtime = runtime or Runtime(settings)
    scheduler = TickScheduler(TickJob(runtime), settings)
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda signum, _frame: stop.set())
    scheduler.start()
    announce(settings)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        log.info("arrears serve: shutting down (waiting for a running tick to stop)")
        scheduler.shutdown()
        runtime.close()
    log.info("arrears serve: stopped")
    return 0


def announce(settings: TickSettings) -> None:
    """Log when and against what the scheduler ticks (the database URL without password)."""
    every = f"cron '{settings.cron}' (UTC)" if settings.cron else f"every {settings.interval} s"
    log.info("arrears serve: ticking %s against %s; policy %s", every, safe_url(settings.database_url),
             settings.policy_path)
