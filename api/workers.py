"""Several server processes on one port (pre-fork), so the API can use more than one core.

A decision is Python and numpy work under one interpreter lock, so one process uses
about one core however many threads it has. `serve_workers` forks `workers` children
from the process that built the app; each child drops the parent's database
connections, gets its own decision batcher, opens its own listening socket on the
same port (`SO_REUSEPORT`: the kernel spreads connections evenly) and serves it with
waitress. The parent only watches: SIGTERM or SIGINT stops every child, and if one
child dies the others are stopped too (a supervisor such as systemd restarts the lot).

Each child keeps its own `/metrics` counters; scrape them per process or add them up.
Linux and the BSDs only (SO_REUSEPORT, fork).
"""
from __future__ import annotations

import os
import signal
import socket
import sys
import time


def _listener(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _child(app, host: str, port: int, threads: int, options: dict) -> None:
    from api.server import create_server
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    state = app.extensions["arrears"]
    state.after_fork()
    sock = _listener(host, port)
    sock.listen(1024)
    server = create_server(app, threads=threads, sockets=[sock], **options)
    try:
        server.run()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.close()
        state.close()


def serve_workers(app, host: str, port: int, threads: int, workers: int, **options) -> None:
    """Serve `app` from `workers` forked processes on host:port until SIGTERM or SIGINT."""
    reserve = _listener(host, port)         # bound, never listening: holds the port (and port 0's pick)
    port = reserve.getsockname()[1]
    children = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:
            try:
                _child(app, host, port, threads, options)
            finally:
                os._exit(0)
        children.append(pid)
    print(f"arrears API on http://{host}:{port}/ ({workers} processes x {threads} threads)",
          file=sys.stderr, flush=True)
    stopping = []
    previous = {s: signal.signal(s, lambda *_: stopping.append(True)) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        while not stopping:
            done, _ = os.waitpid(-1, os.WNOHANG)
            if done:
                children.remove(done)
                break
            time.sleep(0.2)
    finally:
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
        for s, handler in previous.items():
            signal.signal(s, handler)
        reserve.close()
