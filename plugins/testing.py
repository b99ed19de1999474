"""Helpers for testing plugins without the engine, a database or the network.

    from arrears.plugins.testing import RecordingServer, make_message, plugin_manager

    pm = plugin_manager(my_plugin)               # built-ins + my_plugin, no entry points
    with RecordingServer() as server:             # a real HTTP server on 127.0.0.1
        server.reply(503)                         # script the next replies (default 200)
        server.reply(429, headers={"Retry-After": "120"})   # a rate limit
        ...deliver to server.url...
        request = server.requests[0]              # method, path, headers, body, json()

A provider with a memory (one that drops a repeated idempotency key, say) is a function
given to `server.respond(fn)`: it sees each `Recorded` request and returns a reply
`(status, body[, headers])`, or None for the scripted one. To push a message through a
real outbox and tick (retries, `Retry-After`, fallback, the contact history), use
`arrears.engine.tick.trial.TickTrial`: the tick's time is then the channel's `clock()`.
"""
from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

import pluggy

from arrears.plugins.manager import get_plugin_manager, register_kinds
from arrears.plugins.message import Message, Recipient

FIXED_NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)


def make_message(**overrides) -> Message:
    """A realistic friendly-reminder email for account A1; any field can be overridden.

    `context` overrides are merged into the default context rather than replacing it.
    """
    money = lambda amount: {"amount": amount, "currency": "EUR"}
    context = {
        "account": {"id": "A1", "name": None,
                    "currency": "EUR", "debtor_type": "consumer", "jurisdiction": "GB",
                    "language": "en", "timezone": "Europe/London", "account_manager": None,
                    "relationship_tier": None, "tags": []},
        "creditor": {"name": "Example Ltd", "phone": "+44 20 7946 0000",
                     "payment_url": "https://pay.example.com/A1"},
        "balance": money("1000.00"), "total_balance": money("1000.00"),
        "overdue_balance": money("1000.00"), "disputed_amount": money("0.00"),
        "invoices": [{"id": "I1", "amount": money("1000.00"), "open": money("1000.00"),
                      "due_date": "2026-11-01", "status": "open", "overdue": True}],
        "previous_contact": None, "payable": True, "payment_link": None,
        "days_past_due": 21, "bucket": "1-30", "stage": "friendly_reminder", "attempt": 1,
        "action": "reminder", "tone": "friendly", "language": "en", "channel_kind": "email",
        "offers": [], "fees": None, "content": [],
        "flags": {"opt_out": False, "disclosure": False, "validation_notice": False,
                  "first_message": False},
        "today": "2026-11-22", "evaluated_at": "2026-11-22T15:00:00Z",
    }
    context.update(overrides.pop("context", {}))
    message = Message(
        account_id="A1", action_type="reminder", stage="friendly_reminder", attempt=1,
        channel="email", channel_kind="email", template="friendly_reminder", tone="friendly",
        language="en", not_before=FIXED_NOW,
        recipient=Recipient(email="debtor@example.com", phone="+441234567890",
                            mobile="+447700900000", address="1 High Street\nLondon N1 1AA"),
        context=context, metadata={"priority": 50.0, "timezone": "Europe/London"})
    message = replace(message, **overrides)
    # Keep the context consistent with the fields tests most often override.
    flags = {name: name in message.content for name in context["flags"]}
    ctx = {**message.context, "content": list(message.content), "flags": flags,
           "account": {**message.context["account"], "id": message.account_id},
           "language": message.language, "channel_kind": message.channel_kind,
           "stage": message.stage, "attempt": message.attempt}
    return replace(message, context=ctx)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (for "connection refused")."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def plugin_manager(*plugins, builtins: bool = True) -> pluggy.PluginManager:
    """A fresh manager with the built-ins (unless `builtins=False`) and `plugins`, in order.

    Entry points are not loaded, so installed plugins cannot interfere with a test. The channel
    kinds `plugins` declare are registered (`arrears.plugins.manager.register_kinds`).
    """
    pm = get_plugin_manager(load_entrypoints=False, builtins=builtins)
    for plugin in plugins:
        pm.register(plugin)
    register_kinds(pm)
    return pm


@dataclass
class Recorded:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self):
        """The body parsed as JSON."""
        return json.loads(self.body)


def _bytes(body: bytes | str | dict) -> bytes:
    if isinstance(body, dict):
        body = json.dumps(body)
    return body.encode("utf-8") if isinstance(body, str) else body


@dataclass
class _Reply:
    status: int = 200
    body: bytes = b'{"id": "msg-1"}'
    delay: float = 0.0
    headers: dict = field(default_factory=dict)


@dataclass
class RecordingServer:
    """A threaded HTTP server on 127.0.0.1 (a free port) that records every request.

    Use as a context manager. Replies are taken from the queue filled by `reply()`;
    when it is empty, the responder set by `respond()` answers, else the default reply is
    200 with ``{"id": "msg-1"}``.
    """

    requests: list[Recorded] = field(default_factory=list)

    def __post_init__(self):
        self._replies: deque[_Reply] = deque()
        self._responder = None
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                recorded = Recorded(self.command, self.path, dict(self.headers), body)
                owner.requests.append(recorded)
                reply = owner._next_reply(recorded)
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(reply.body)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(reply.body)
                except OSError:
                    pass    # the client gave up (a timeout test)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def url(self) -> str:
        """Base URL of the server, e.g. ``http://127.0.0.1:54321``."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def reply(self, status: int = 200, body: bytes | str | dict = b'{"id": "msg-1"}',
              delay: float = 0.0, headers: dict[str, str] | None = None) -> None:
        """Queue the reply to the next request (a dict is sent as JSON), with extra `headers`
        (``{"Retry-After": "120"}`` for a rate limit)."""
        self._replies.append(_Reply(status, _bytes(body), delay, dict(headers or {})))

    def respond(self, responder) -> None:
        """Answer requests no scripted reply is queued for with `responder(recorded)`: a
        `(status, body)` or `(status, body, headers)` tuple, or None for the default reply."""
        self._responder = responder

    def _next_reply(self, recorded: Recorded) -> _Reply:
        if self._replies:
            return self._replies.popleft()
        out = self._responder(recorded) if self._responder else None
        if out is None:
            return _Reply()
        status, body, *rest = out
        return _Reply(status, _bytes(body), 0.0, dict(rest[0]) if rest else {})

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
