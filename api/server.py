"""Serving the API with waitress (a production WSGI server in pure Python).

    from arrears.api import create_app
    from arrears.api.server import serve
    serve(create_app(config), host="0.0.0.0", port=8080, threads=32)

Or from a shell, until `arrears serve` hosts it alongside the scheduler:

    ARREARS_API_KEYS="<key>:admin" python -m arrears.api.server --db sqlite:///arrears.db --port 8080

Threads and the waitress settings: see `arrears.api.httpd`; several processes:
`arrears.api.workers`.
"""
from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading

from arrears.api.httpd import DEFAULT_THREADS, create_server, freeze_startup_heap
from arrears.api.workers import already_stopping, serve_workers, signals_held, stop_on_sigterm


def serve(app, host: str = "127.0.0.1", port: int = 8080, threads: int = DEFAULT_THREADS,
          workers: int = 1, *, parent=None, **options) -> None:
    """Serve `app` on host:port until SIGINT or SIGTERM; then close its store and batcher.

    `workers` > 1 forks that many server processes sharing the port (see `arrears.api.workers`).
    `parent`, if given, is a context manager factory for other work of this process (the
    scheduled tick of `arrears serve`): entered once the server is listening (after the
    fork), exited when it has stopped.
    """
    freeze_startup_heap()
    if workers > 1:
        serve_workers(app, host, port, threads, workers, parent=parent, **options)
        return
    server = create_server(app, host, port, threads, **options)
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGTERM)
    if main_thread:
        stop_on_sigterm()
    print(f"arrears API on http://{server.effective_host}:{server.effective_port}/ "
          f"({threads} threads)", file=sys.stderr, flush=True)
    try:
        with contextlib.ExitStack() as stack:
            with signals_held():            # a signal now would leave the parent's work half-started
                if parent is not None:
                    stack.enter_context(parent())
            server.run()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        # Stopped by SIGTERM: `already_stopping` stays, for the caller's shutdown (the tick) too.
        if main_thread and signal.getsignal(signal.SIGTERM) is not already_stopping:
            signal.signal(signal.SIGTERM, previous)
        server.close()
        state = app.extensions.get("arrears")
        if state is not None:
            state.close()


def main(argv=None) -> int:
    """`python -m arrears.api.server`: build the app from flags and the environment, then serve it."""
    from arrears.api import create_app
    from arrears.api.config import ConfigError
    from arrears.engine.domain.errors import ArrearsError

    parser = argparse.ArgumentParser(prog="python -m arrears.api.server", description="Serve the Arrears API.")
    parser.add_argument("--db", help="database URL (default: $ARREARS_DATABASE_URL, else sqlite:///arrears.db)")
    parser.add_argument("--policy", help="policy file used when none is active yet (default: $ARREARS_POLICY, "
                                         "else the shipped default)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    parser.add_argument("--workers", type=int, default=1, help="server processes (default 1)")
    args = parser.parse_args(argv)
    config = {k: v for k, v in (("database_url", args.db), ("policy", args.policy)) if v}
    try:
        app = create_app(config)
    except (ArrearsError, ConfigError, OSError, ValueError) as exc:
        print(f"arrears.api.server: {exc}", file=sys.stderr)
        return 1
    serve(app, args.host, args.port, args.threads, workers=args.workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
