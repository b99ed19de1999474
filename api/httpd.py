"""One waitress HTTP server for the app, tuned for the decision API.

Threads: each request in flight holds one, and the decision micro-batcher can only
batch requests that are in flight together, so more threads than cores pays off
here (the work itself is numpy and Python under one GIL).
"""
from __future__ import annotations

import gc
import warnings

DEFAULT_THREADS = 64
# A response up to this size is sent whole by waitress's I/O thread once the request is
# done (with the next ones ready by then), rather than its headers and body separately from
# the request thread as they are written: fewer system calls and fewer hand-offs of the
# interpreter lock per request, about a quarter less CPU per decision. (waitress deprecates
# the setting; a version without it sends at once, as by default.)
SEND_BYTES = 16384


def _options(app, threads: int, options: dict) -> dict:
    from waitress.adjustments import Adjustments
    state = app.extensions.get("arrears")
    limit = state.settings.max_body_bytes if state is not None else None
    out = {"threads": threads, "ident": "arrears", "asyncore_use_poll": True,
           "connection_limit": max(100, threads * 4), "channel_timeout": 60}
    if hasattr(Adjustments, "send_bytes"):
        out["send_bytes"] = SEND_BYTES
    if limit:
        # Bodies up to twice the app's limit reach Flask, which answers 413 with a problem
        # document; waitress refuses anything larger outright (and never buffers it).
        out["max_request_body_size"] = 2 * limit + (1 << 20)
    out.update(options)
    return out


def create_server(app, host: str = "127.0.0.1", port: int = 8080, threads: int = DEFAULT_THREADS, **options):
    """A waitress server bound to host:port (port 0 picks a free one: see `.effective_port`),
    or to `sockets=[...]` if given; call `.run()` to serve and `.close()` to stop."""
    from waitress.server import create_server as _create
    where = {} if "sockets" in options else {"host": host, "port": port}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "send_bytes", DeprecationWarning)
        return _create(app, **where, **_options(app, threads, options))


def freeze_startup_heap() -> None:
    """Collect, then freeze (`gc.freeze`) everything built so far: the app, its policies, schemas
    and libraries live as long as the server, so the cyclic collector need not walk them again.
    Its full collections (every few thousand requests) walked those ~170,000 objects each time,
    about 95 ms holding the interpreter lock (6 us a decision request); after this, about a
    quarter of that. Before a fork, the children share the frozen pages too (copy-on-write)."""
    gc.collect()
    gc.freeze()
