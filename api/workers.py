"""Several server processes on one port (pre-fork), so the API can use more than one core.

A decision is Python and numpy work under one interpreter lock, so one process uses
about one core however many threads it has. `serve_workers` forks `workers` children
from the process that built the app; each child drops the parent's database
connections, gets its own decision batcher, opens its own listening socket on the
same port (`SO_REUSEPORT`: the kernel spreads connections evenly) and serves it with
waitress. The parent watches: SIGTERM or SIGINT stops every child, and if one
child dies the others are stopped too (a supervisor such as systemd restarts the lot).

Each child keeps its own `/metrics` counters; scrape them per process or add them up.
Linux and the BSDs only (SO_REUSEPORT, fork). The parent may do work of its own while
it watches (`parent=`: `arrears serve --workers N` runs the scheduled tick there).
"""
from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import sys
import threading
import time

from arrears.api.httpd import create_server


def _listener(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


SIGNALS = (signal.SIGTERM, signal.SIGINT)
ALREADY_STOPPING = b"arrears: already stopping (SIGTERM again): waiting for the running work to finish\n"


def already_stopping(_signum, _frame) -> None:
    """SIGTERM's handler once the process is stopping: a supervisor repeating itself must not
    kill it midway through its shutdown (`arrears serve` waits there for a running tick's page).
    It says so on stderr with one write (no logging: a signal handler may interrupt a log call
    holding the logging locks). SIGINT (Ctrl-C twice) and SIGKILL still stop it at once."""
    os.write(2, ALREADY_STOPPING)


@contextlib.contextmanager
def signals_held():
    """SIGTERM and SIGINT wait until the block ends, then the first one received takes effect as
    it would have (it is raised again, to the handlers restored). For work that must not be cut
    midway by the exception a handler raises: starting the scheduler (stopped between marking
    itself running and starting its thread, it could not be shut down). Main thread only (the
    only one Python runs handlers in); elsewhere a plain block."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    got: list[int] = []
    previous = {s: signal.signal(s, lambda signum, _frame: got.append(signum)) for s in SIGNALS}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    if got:
        signal.raise_signal(got[0])


def stop_on_sigterm() -> None:
    """SIGTERM raises SystemExit(0) once, then leaves `already_stopping` in its place."""
    def first(_signum, _frame):
        signal.signal(signal.SIGTERM, already_stopping)
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, first)


def _child(app, host: str, port: int, threads: int, options: dict, ready: int) -> None:
    stop_on_sigterm()
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)     # blocked by the parent across the fork
    state = app.extensions["arrears"]
    state.after_fork()
    sock = _listener(host, port)
    sock.listen(1024)
    server = create_server(app, threads=threads, sockets=[sock], **options)
    os.write(ready, b"1")                   # listening: the parent may announce the port
    os.close(ready)
    try:
        server.run()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.close()
        state.close()


def _await_listening(ready: int, workers: int, stopping: list, timeout: float = 60.0) -> None:
    """Block until every child listens (one byte each), so the port is announced only once
    connections to it are accepted; a child that dies first ends the wait early (EOF), and
    so does a signal to stop (`stopping`)."""
    got, deadline = 0, time.monotonic() + timeout
    try:
        while got < workers and not stopping and time.monotonic() < deadline:
            readable, _, _ = select.select([ready], [], [], min(0.2, max(0.0, deadline - time.monotonic())))
            if not readable:
                continue
            chunk = os.read(ready, workers)
            if not chunk:
                break
            got += len(chunk)
    finally:
        os.close(ready)


def _watch(children: list, stopping: list) -> None:
    """Until a signal arrives or a child exits (that child is removed from `children`)."""
    try:
        while not stopping:
            done, _ = os.waitpid(-1, os.WNOHANG)
            if done:
                children.remove(done)
                return
            time.sleep(0.2)
    finally:
        _stop(children)


def _stop(children: list) -> None:
    """SIGTERM every child still listed and wait for each."""
    for pid in children:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    for pid in children:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    children.clear()


def serve_workers(app, host: str, port: int, threads: int, workers: int, *, parent=None, **options) -> None:
    """Serve `app` from `workers` forked processes on host:port until SIGTERM or SIGINT.

    `parent`, if given, is a context manager factory for the parent's own work while it
    watches (`arrears serve` runs the scheduled tick there): entered once every child is
    forked, since threads started before a fork do not survive in the children, and
    exited after they have stopped.
    """
    reserve = _listener(host, port)         # bound, never listening: holds the port (and port 0's pick)
    port = reserve.getsockname()[1]
    children, stopping = [], []
    # The parent stops on SIGTERM/SIGINT from before the first fork: a signal while the children
    # start (a slow one, under load) stops them all instead of killing the parent and orphaning
    # them. Each fork happens with the signals blocked, so a child never runs the parent's
    # handler: it sets its own, then unblocks them.
    previous = {s: signal.signal(s, lambda *_: stopping.append(True)) for s in SIGNALS}
    ready_r, ready_w = os.pipe()
    try:
        for _ in range(workers):
            signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
            try:
                pid = os.fork()
                if pid == 0:
                    try:
                        os.close(ready_r)
                        _child(app, host, port, threads, options, ready_w)
                    finally:
                        os._exit(0)
            finally:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)     # the parent's (a child exits above)
            children.append(pid)
        os.close(ready_w)
        _await_listening(ready_r, workers, stopping)
        if not stopping:
            print(f"arrears API on http://{host}:{port}/ ({workers} processes x {threads} threads)",
                  file=sys.stderr, flush=True)
            with parent() if parent is not None else contextlib.nullcontext():
                _watch(children, stopping)
    finally:
        _stop(children)
        for s, handler in previous.items():
            signal.signal(s, handler)
        if stopping:                        # what the caller does next is part of the stop
            signal.signal(signal.SIGTERM, already_stopping)
        reserve.close()
