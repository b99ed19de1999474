"""`arrears serve`'s scheduler: APScheduler 3.x running the tick in a background thread.

The job is added with `max_instances=1` (a tick that overruns its interval is not
started again beside itself; the late run is skipped and logged by APScheduler),
`coalesce=True` (runs missed while the process was busy or suspended collapse into
one), and `misfire_grace_time` (a run may start that late and still count). These
protect one process; the database lease protects against other processes.

The first tick runs at start-up, so a restart after downtime catches up at once.
`TickScheduler` is also what the HTTP API attaches like a Flask extension
(`init_app(app)`), so `arrears serve` runs both in one process; a tick requested through
the API (`POST /v1/ticks`) then runs in the scheduler's executor, with its dispatcher,
through `scheduler.launcher` (see `arrears.engine.tick.launcher`).
"""
from __future__ import annotations

import logging
import signal
import threading
from datetime import datetime, timezone

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from arrears.engine.store import safe_url
from arrears.engine.tick.launcher import TickLauncher
from arrears.engine.tick.service import Runtime, TickJob
from arrears.engine.tick.settings import TickSettings

JOB_ID = "arrears-tick"
log = logging.getLogger("arrears.tick")


def make_trigger(settings: TickSettings):
    """An IntervalTrigger every `settings.interval` seconds, or a CronTrigger for
    `settings.cron` (standard crontab fields, evaluated in UTC)."""
    if settings.cron:
        return CronTrigger.from_crontab(settings.cron, timezone="UTC")
    return IntervalTrigger(seconds=settings.interval, timezone="UTC")


class TickScheduler:
    """A BackgroundScheduler with the one tick job."""

    def __init__(self, job: TickJob, settings: TickSettings):
        self.job, self.settings = job, settings
        self.scheduler = BackgroundScheduler(timezone="UTC")
        # Ticks on request share the job's runtime (dispatcher included) and its stop event.
        self.launcher = TickLauncher(job.runtime, submit=self._submit, stop=job.stop)

    def _submit(self, work, run_id: int) -> None:
        """Run `work` once, now, in the scheduler's executor (shutdown waits for it)."""
        self.scheduler.add_job(work, id=f"arrears-tick-run-{run_id}", name=f"arrears tick run {run_id}",
                               misfire_grace_time=None)

    def start(self, *, run_now: bool = True) -> None:
        """Add the tick job and start the scheduler thread."""
        extra = {"next_run_time": datetime.now(timezone.utc)} if run_now else {}
        self.scheduler.add_job(self.job, make_trigger(self.settings), id=JOB_ID, name="arrears tick",
                               max_instances=1, coalesce=True,
                               misfire_grace_time=self.settings.misfire_grace_time, **extra)
        self.scheduler.start()

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
