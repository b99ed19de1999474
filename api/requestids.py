"""A request id on every response (`X-Request-Id`) and on every log record made while serving it.

A caller's own `X-Request-Id` is kept when it is sane (1-128 characters of letters, digits
and `._:@/+=-`, so it cannot break a log line or a header); otherwise, or without one, the
server makes one (32 hex digits). Done in a wrapper around `app.wsgi_app`, like the metrics,
so it covers every response Flask makes: problem documents, unknown routes, 500s.

`RequestIdFilter` gives each log record a `request_id` attribute (`-` outside a request);
`arrears serve` installs it and prints the id in every line, and an application logging
its own way can add it to its handlers and use `%(request_id)s` in its format.
"""
from __future__ import annotations

import contextvars
import logging
import os
import re
from collections import deque

HEADER = "X-Request-Id"
SANE = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")
_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("arrears_request_id", default=None)
# New ids come from os.urandom 256 at a time: one system call per request was one more moment
# for a request thread to let go of the interpreter lock (the call releases it) and wait to take
# it back among 64 threads. Each id is still 16 bytes of os.urandom used once (uuid4's
# randomness). deque.popleft and extend are atomic under the GIL; a forked child starts afresh
# (it must not hand out its parent's ids).
_IDS_AT_ONCE = 256
_fresh: deque[str] = deque()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_fresh.clear)


def current() -> str | None:
    """The id of the request being served in this thread, or None."""
    return _current.get()


def new_id() -> str:
    """A new request id: 32 hex digits of os.urandom (uuid4's randomness, without a UUID object)."""
    try:
        return _fresh.popleft()
    except IndexError:
        digits = os.urandom(16 * _IDS_AT_ONCE).hex()
        _fresh.extend(digits[i:i + 32] for i in range(32, len(digits), 32))
        return digits[:32]


def choose(given: str | None) -> str:
    """The caller's id if it is sane, else a new one."""
    return given if given is not None and SANE.fullmatch(given) else new_id()


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (the id of the request being served, or `-`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _current.get() or "-"
        return True


def init_app(app) -> None:
    """Give every response of `app` an `X-Request-Id` and every log record made while
    serving it that id."""
    inner = app.wsgi_app

    def with_id(environ, start_response):
        rid = choose(environ.get("HTTP_X_REQUEST_ID"))
        token = _current.set(rid)

        def start(status, headers, exc_info=None):
            headers = [h for h in headers if h[0].lower() != "x-request-id"]
            headers.append((HEADER, rid))
            return start_response(status, headers, exc_info)

        try:
            return inner(environ, start)
        finally:
            _current.reset(token)

    app.wsgi_app = with_id
