"""Ticks on request (`POST /v1/ticks`): recorded at once, run in the background.

    launcher = TickLauncher(runtime)                   # a thread per run
    run_id = launcher.launch(datetime.now(timezone.utc))
    launcher.close()                                   # stop a running tick, wait for it

A request must not wait for a tick that may take minutes, so `launch` records the run
as `pending` and hands it to `submit` (a new thread by default; `arrears serve` passes
its scheduler's executor, so shutdown waits for it like for a scheduled tick). Each run
uses a lease holder name of its own, so it never counts as a renewal of the scheduled
tick's lease in the same process.

A tick already running is refused with `TickBusy` (the API answers 409): one started
by this launcher and not finished, or any holder of the live `tick` lease. The check
and the lease are not one atomic step: a run accepted in the instant another process
takes the lease is recorded as `skipped`, with the holder in its summary.
"""
from __future__ import annotations

import logging
import threading
import time
from datetime import datetime

from arrears.engine.domain.errors import ArrearsError
from arrears.engine.store import leases, tickruns
from arrears.engine.tick.runner import TICK_LEASE

log = logging.getLogger("arrears.tick")


class TickBusy(ArrearsError):
    """A tick is running already; `run_id` is its run (None if it is not known here)."""

    def __init__(self, message: str, run_id: int | None = None):
        super().__init__(message)
        self.run_id = run_id


class ShuttingDown(ArrearsError):
    """The launcher is closed: no new run is accepted."""


class TickLauncher:
    """Starts recorded tick runs in the background, one at a time per process."""

    def __init__(self, runtime, submit=None, stop: threading.Event | None = None, clock=time.time,
                 horizon=None, after=None):
        """`horizon(at)` gives each run's horizon (None: the configured one) and `after(at,
        summary)` is called when a run ends: `arrears serve`'s scheduler passes its own, so a
        tick on request queues up to the next scheduled tick and plans the deliveries too."""
        self.runtime, self.clock = runtime, clock
        self.horizon, self.after = horizon, after
        self.stop = stop or threading.Event()
        self.submit = submit or self._thread
        self._lock = threading.Lock()
        self._busy: int | None = None          # the run this launcher has pending or running
        self._threads: list[threading.Thread] = []

    def launch(self, at: datetime, trigger: str = "api") -> int:
        """Record a pending run at `at` and start it in the background; returns its id.

        Raises `TickBusy` if a tick is running, `ShuttingDown` after `close()`.
        """
        engine = self.runtime.store.engine
        with self._lock:
            if self.stop.is_set():
                raise ShuttingDown("the service is shutting down; no tick is started")
            if self._busy is not None and not self._recorded_finished(engine, self._busy):
                raise TickBusy(f"a tick is already running (run {self._busy})", self._busy)
            self._check_lease(engine)
            holder = leases.default_holder()
            run_id = tickruns.create(engine, trigger=trigger, at=int(at.timestamp()), holder=holder,
                                     dispatch=self.runtime.dispatcher is not None, now=int(self.clock()),
                                     status="pending")
            self._busy = run_id
        try:
            self.submit(lambda: self._run(run_id, at, trigger, holder), run_id)
        except BaseException as exc:
            self._done(run_id)
            tickruns.finish(engine, run_id, "failed", int(self.clock()), error=f"not started: {exc}")
            raise
        return run_id

    @staticmethod
    def _recorded_finished(engine, run_id: int) -> bool:
        """Whether `run_id` is recorded as finished: its thread may still be winding up (the
        run is recorded, then the thread lets go), and a client that saw the run finished and
        starts the next one must not be told a tick is running."""
        with engine.connect() as conn:
            row = tickruns.get(conn, run_id)
        return row is not None and row.status not in tickruns.UNFINISHED

    def _check_lease(self, engine) -> None:
        held = leases.state(engine, TICK_LEASE)
        if held is None or held.expires_at <= self.clock():
            return
        row = tickruns.running_under(engine, held.holder)
        run_id = None if row is None else row.id
        what = f"run {run_id}" if run_id is not None else f"lease held by {held.holder}"
        raise TickBusy(f"a tick is already running ({what}, lease expires in "
                       f"{max(held.expires_at - self.clock(), 0):.0f} s)", run_id)

    def _run(self, run_id: int, at: datetime, trigger: str, holder: str) -> None:
        summary = None
        try:
            horizon = None if self.horizon is None else self.horizon(at)
            _, summary = self.runtime.run(at, trigger, run_id=run_id, holder=holder, stop=self.stop.is_set,
                                          horizon=horizon)
            log.info("run %s (%s): %s", run_id, trigger, summary.line())
        except Exception:
            log.exception("tick run %s failed", run_id)
        finally:
            self._done(run_id)
        try:
            if self.after is not None and not self.stop.is_set():
                self.after(at, summary)
        except Exception:
            log.exception("could not plan the next delivery run")

    def _done(self, run_id: int) -> None:
        with self._lock:
            if self._busy == run_id:
                self._busy = None

    def _thread(self, work, run_id: int) -> None:
        thread = threading.Thread(target=work, name=f"arrears-tick-run-{run_id}", daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def close(self, timeout: float | None = None) -> None:
        """Refuse new runs, ask a running one to stop at its next page or delivery, and wait
        for this launcher's own threads to end."""
        self.stop.set()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)
