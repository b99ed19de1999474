"""Worker processes that plan pages (load and decide) while the ticking process writes.

    with Planners(store, policy, now, horizon, count=2) as planners:
        planners.send(0, page)            # worker 0 starts planning `page`
        plan = planners.receive(0)        # its PagePlan (or the exception it raised)

Planning a page (`arrears.engine.tick.pageplan.plan_page`) is read-only and CPU-bound (SQLite
stepping, building columns, deciding); writing it is the ticking process's alone, so
the database keeps exactly one writer and every act-once check stays where it was.
Each worker has its own read-only `Store` on the same database and handles one page at
a time, so neither side can block the other on a full pipe.

A worker is a fresh interpreter (`python -c`, not `multiprocessing`): nothing is
forked from a process that may run the API's threads, and the caller's main script is
never imported again. Messages are pickles over the worker's stdin and stdout; the
worker's own prints go to stderr. A worker whose ticking process dies reads the end of
its input and exits; `close()` stops them at the end of a tick.
"""
from __future__ import annotations

import os
import pickle
import subprocess
import sys
import traceback
from typing import Self

from arrears.engine.domain import kinds
from arrears.engine.store.db import sqlite_path

JOIN_TIMEOUT = 5.0       # seconds a worker gets to exit before it is killed
_ENTRY = "from arrears.engine.tick.workers import serve; serve()"
_PROTOCOL = pickle.HIGHEST_PROTOCOL


class WorkerError(RuntimeError):
    """A worker process failed, or failed in a way that could not be passed back as its own exception."""


class Planners:
    """`count` worker processes planning pages for `policy` at `now` (see the module docstring);
    `strategies`: the running experiment's (`arrears.engine.experiments.live.Strategies`), if any."""

    def __init__(self, store, policy, now, horizon: int, count: int, *, strategies=None):
        self._procs: list[subprocess.Popen] = []
        # The plugins' channel kinds, in this process's order, so a kind has the same code there.
        plugin_kinds = [kinds.KINDS[name] for name in kinds.CHANNEL_KINDS[len(kinds.BUILTIN_NAMES):]]
        setup = pickle.dumps((worker_url(store.url), policy, now, horizon, plugin_kinds, strategies), _PROTOCOL)
        try:
            for _ in range(count):
                proc = subprocess.Popen([sys.executable, "-c", _ENTRY], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, env=_environment())
                self._procs.append(proc)
                proc.stdin.write(setup)
                proc.stdin.flush()
        except BaseException:
            self.close()
            raise

    def __len__(self) -> int:
        return len(self._procs)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def send(self, worker: int, page) -> None:
        """Hand `page` (a `DuePage`) to idle `worker`."""
        proc = self._procs[worker]
        try:
            pickle.dump(page, proc.stdin, _PROTOCOL)
            proc.stdin.flush()
        except BrokenPipeError:
            raise self._died(worker) from None

    def receive(self, worker: int):
        """Wait for `worker`'s `PagePlan`; re-raises the exception the worker raised."""
        try:
            status, value = pickle.load(self._procs[worker].stdout)
        except EOFError:
            raise self._died(worker) from None
        if status == "error":
            exc, remote = value
            raise exc from WorkerError(f"in tick worker process {self._procs[worker].pid}:\n{remote}")
        return value

    def _died(self, worker: int) -> WorkerError:
        proc = self._procs[worker]
        return WorkerError(f"tick worker process {proc.pid} died (exit status {proc.poll()})")

    def close(self) -> None:
        """Stop every worker: close its input (it exits), then kill what is still running."""
        for proc in self._procs:
            try:
                proc.stdin.close()     # a worker still planning finds its output closed, and exits
            except OSError:
                pass
            proc.stdout.close()
        for proc in self._procs:
            try:
                proc.wait(JOIN_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._procs = []


def worker_url(url: str) -> str:
    """`url` as a worker must open it: a relative SQLite path made absolute."""
    path = sqlite_path(url)
    if path is None or path.is_absolute():
        return url
    query = url.split("?", 1)[1] if "?" in url else ""
    return f"sqlite:///{path.resolve()}" + (f"?{query}" if query else "")


def _environment() -> dict:
    """The worker's environment: this one, importing from where this process imports."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    return env


def serve() -> None:
    """A worker's main loop: plan each page read from stdin until the input ends."""
    from arrears.engine.store import Store
    from arrears.engine.tick.pageplan import plan_page
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)                       # stray prints must not corrupt the protocol
    inp = sys.stdin.buffer
    try:
        url, policy, now, horizon, plugin_kinds, strategies = pickle.load(inp)
    except EOFError:
        return
    kinds.register(plugin_kinds)
    store = Store(url, upgrade=False, create=False)
    try:
        while True:
            try:
                page = pickle.load(inp)
            except EOFError:            # the tick is over, or the ticking process is gone
                return
            try:
                reply = ("ok", plan_page(store, policy, page, now, horizon, ahead=True,
                                           strategies=strategies))
            except Exception as exc:    # noqa: BLE001 -- handed back: the ticking process raises it
                reply = ("error", (_portable(exc), "".join(traceback.format_exception(exc))))
            try:
                pickle.dump(reply, out, _PROTOCOL)
                out.flush()
            except (BrokenPipeError, ValueError):
                return
    finally:
        store.close()


def _portable(exc: Exception) -> Exception:
    """`exc` if it survives pickling, else a WorkerError carrying its text."""
    try:
        pickle.loads(pickle.dumps(exc, _PROTOCOL))
        return exc
    except Exception:  # noqa: BLE001 -- whatever pickling raises, the text still goes back
        return WorkerError(f"{type(exc).__name__}: {exc}")
