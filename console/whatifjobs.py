"""The workbench's what-if as a background job: the request records the job and returns at once;
a worker thread of the serving process simulates the candidate against the active policy over the
whole store, page by page (`arrears.engine.simulate.simulate`, the column-wise batch path), and
keeps its progress and then its result in the database, so the page can poll it.

One job a candidate (by its digest), kept as the snapshot `whatif:DIGEST`
(`arrears.engine.store.snapshots`): `meta` holds who asked and when, which candidate, the state
(`running`, `done`, `failed`), the accounts done of the total and, for a failed job, why; `body`
holds the report's JSON once done. A request for a candidate whose job is running joins it
(nothing new is started); a request after it ended starts it again (the portfolio may have changed).

Starting is a claim in the store (`Store.start_job`: the lease `whatif:DIGEST`, taken in the
transaction that records the job), so with `serve --workers N` one process runs a candidate's
job and every other one joins it, however close together the requests. The running job renews
its claim with each progress write; a job whose claim lapsed (its process stopped, or stalled
for `STALE_SECONDS`) reads as interrupted, and the next request takes the claim over and starts
it again. A job whose claim another process took over stops at its next page, writing nothing.
One of this process's jobs that has no thread any more also reads as interrupted.
`shutdown()` stops the running jobs at their next page (they are kept as failed: "the server
stopped while it ran").
"""
from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from datetime import datetime, timezone

log = logging.getLogger("arrears.console")
PREFIX = "whatif:"
STALE_SECONDS = 300          # a job's claim lapses when its progress has not been written this long
SAMPLE = 5                   # accounts each of the report's samples shows
WRITE_EVERY = 0.5            # seconds: progress is written at most this often (and after the last page)


class _Stopped(Exception):
    """The server is stopping: the job ends at its page."""


class _TakenOver(Exception):
    """The job's claim lapsed and another process took the job over: this one ends, quietly."""


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


class WhatIfJobs:
    """The what-if jobs of one serving process (`state`: the app's `ApiState`: store, policies,
    settings). Kept as `app.extensions["arrears.whatif"]`."""

    def __init__(self, state, *, batch_size: int | None = None, stale_after: float = STALE_SECONDS):
        self.state = state
        self.batch_size = batch_size             # accounts a page (None: the simulation's default)
        self.stale_after = stale_after           # seconds a claim lives without a progress write
        self.runner = uuid.uuid4().hex          # which process (and which jobs object) runs a job
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: dict[str, threading.Thread] = {}

    def start(self, candidate, user: str) -> tuple[dict, bool]:
        """Start the what-if of `candidate` (a compiled policy) for `user`, or join its running job
        (in this process or another: the start is a claim in the store); returns (the job's
        status, whether it joined a running one). Audited with the user."""
        with self._lock:
            thread = self._threads.get(candidate.digest)
            job, joined = None, thread is not None and thread.is_alive()
            if not joined:
                at = _now()
                job = {"state": "running", "digest": candidate.digest, "name": candidate.name,
                       "version": candidate.version, "by": user, "requested_at": at.isoformat(),
                       "done": 0, "total": None, "error": None, "runner": self.runner, "finished_at": None}
                joined = self.state.store.start_job(PREFIX + candidate.digest, self.runner,
                                                    ttl=self.stale_after, meta=job) is not None
                if not joined:
                    thread = threading.Thread(target=self._run, args=(candidate, job, at), daemon=True,
                                              name=f"arrears what-if {candidate.digest[:19]}")
                    self._threads[candidate.digest] = thread
                    thread.start()
            if joined:
                job = self.status(candidate.digest)
        self.state.store.audit("console.whatif_requested", candidate.digest,
                               {"by": user, "name": candidate.name, "version": candidate.version,
                                "joined": joined})
        return job, joined

    def status(self, digest: str) -> dict | None:
        """The job of candidate `digest` as kept (meta, with `report` once done and `seconds`), or
        None if none was ever run; a running job whose runner is gone reads as failed."""
        kept = self.state.store.snapshot(PREFIX + digest)
        if kept is None:
            return None
        job = {**kept["meta"], "seconds": kept["seconds"], "updated_at": kept["computed_at"]}
        if job["state"] == "running" and self._orphaned(job):
            job.update(state="failed", error="it was interrupted: the server process running it stopped")
        if job["state"] == "done":
            job["report"] = json.loads(kept["body"])
        return job

    def _orphaned(self, job: dict) -> bool:
        if job.get("runner") == self.runner:
            thread = self._threads.get(job["digest"])
            if thread is None or not thread.is_alive():
                return True
        return self.state.store.job_holder(PREFIX + job["digest"]) != job.get("runner")

    def _write(self, job: dict, *, started: float, body: str = "", end: bool = False) -> None:
        kept = self.state.store.keep_job(PREFIX + job["digest"], self.runner, body, ttl=self.stale_after,
                                         seconds=round(time.perf_counter() - started, 3), meta=job, end=end)
        if not kept:
            raise _TakenOver()

    def _run(self, candidate, job: dict, at: datetime) -> None:
        """The job's thread: simulate, writing progress after each page (at most every
        `WRITE_EVERY` seconds), then the report, or why it failed."""
        from arrears.console.policywork import what_if
        started, last = time.perf_counter(), 0.0

        def progress(done: int, total: int) -> None:
            nonlocal last
            if self.stop.is_set():
                raise _Stopped()
            job.update(done=done, total=total)
            if time.perf_counter() - last >= WRITE_EVERY:
                self._write(job, started=started)
                last = time.perf_counter()

        try:
            job["total"] = self.state.store.account_count()
            self._write(job, started=started)
            report = what_if(self.state, candidate, at, sample=SAMPLE, batch_size=self.batch_size,
                             progress=progress)
        except LookupError:
            self._fail(job, started, "no policy is active: there is nothing to compare with")
        except _Stopped:
            self._fail(job, started, "the server stopped while it ran")
        except _TakenOver:
            log.warning("the what-if of %s was taken over by another process (this one stalled)",
                        candidate.digest)
        except Exception as exc:
            log.exception("the what-if of %s failed", candidate.digest)
            self._fail(job, started, f"{type(exc).__name__}: {exc}")
        else:
            job.update(state="done", done=report["accounts"], total=report["accounts"],
                       finished_at=_now().isoformat())
            try:
                self._write(job, started=started, body=json.dumps(report), end=True)
            except _TakenOver:
                return
            log.info("what-if of %s %s done: %s accounts, %.1f s", candidate.name, candidate.version,
                     report["accounts"], time.perf_counter() - started)

    def _fail(self, job: dict, started: float, why: str) -> None:
        job.update(state="failed", error=why, finished_at=_now().isoformat())
        try:
            self._write(job, started=started, end=True)
        except _TakenOver:
            pass
        except Exception:
            log.exception("the what-if's failure could not be kept")

    def wait(self, digest: str, timeout: float | None = None) -> bool:
        """Wait for this process's job of `digest` to end; True if it has (or none runs here)."""
        thread = self._threads.get(digest)
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def shutdown(self, timeout: float = 30) -> None:
        """Stop the running jobs at their next page and wait for them (at most `timeout` s each)."""
        self.stop.set()
        for thread in list(self._threads.values()):
            thread.join(timeout)


def jobs_of(app) -> WhatIfJobs:
    """The app's what-if jobs (`arrears.console.init_app` makes them)."""
    return app.extensions["arrears.whatif"]
