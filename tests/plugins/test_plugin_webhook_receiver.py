"""A receiver as docs/plugin-guide.md tells one to write it, as a real HTTP server: it accepts
the webhook channel's deliveries and refuses replays and forgeries."""
from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from arrears.plugins.channels.webhook import (
    KEY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    TOLERANCE_SECONDS,
    WebhookChannel,
    verify_signature,
)
from arrears.plugins.rendering import Renderer
from arrears.plugins.testing import make_message

SECRET = "whsec-receiver-test-0123456789abcdef0123"


class Receiver:
    """Verifies signature and timestamp against its own clock (`skew` seconds ahead), refuses a
    repeated idempotency key, answers 200 or 401, and keeps what it accepted."""

    def __init__(self):
        self.skew, self.accepted, self.raw = 0.0, [], []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                owner.raw.append((dict(self.headers), body))
                ok = verify_signature(SECRET, body, self.headers.get(SIGNATURE_HEADER),
                                      self.headers.get(TIMESTAMP_HEADER), now=time.time() + owner.skew)
                key = self.headers.get(KEY_HEADER)
                status = 401 if not ok else 200
                if ok and key not in {k for k, _ in owner.accepted}:
                    owner.accepted.append((key, body))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)


@pytest.fixture
def receiver():
    r = Receiver()
    r.thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()


def _resend(url: str, headers: dict, body: bytes) -> int:
    keep = {k: v for k, v in headers.items() if k.lower() not in ("host", "content-length", "connection")}
    request = urllib.request.Request(url, data=body, headers=keep, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_a_receiver_accepts_a_delivery_and_refuses_its_replay_and_forgeries(receiver):
    channel = WebhookChannel()
    channel.configure({"url": receiver.url, "secret": SECRET, "timeout": 5})       # the real clock
    message = Renderer().render(make_message(channel="crm", channel_kind="webhook", template="agency_referral"))
    result = channel.deliver(message)
    assert result.ok, result.detail
    assert [key for key, _ in receiver.accepted] == [message.idempotency_key]
    headers, body = receiver.raw[0]

    receiver.skew = TOLERANCE_SECONDS + 5              # the same request, replayed too late
    assert _resend(receiver.url, headers, body) == 401
    receiver.skew = 0
    fresh = {**headers, TIMESTAMP_HEADER: str(int(headers[TIMESTAMP_HEADER]) + 1)}    # re-stamped, old signature
    assert _resend(receiver.url, fresh, body) == 401
    assert _resend(receiver.url, headers, body.replace(b"agency", b"AGENCY")) == 401         # another body
    assert _resend(receiver.url, headers, body) == 200         # in time and intact: the key de-duplicates
    assert len(receiver.accepted) == 1
