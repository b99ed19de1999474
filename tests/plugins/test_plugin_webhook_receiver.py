"""A receiver as docs/plugin-guide.md tells one to write it, as a real HTTP server: it accepts
the webhook channel's deliveries and refuses replays and forgeries."""
from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from pathlib import Path

import jsonschema
import pytest

from arrears.plugins.channels.webhook import (
    BODY_SCHEMA,
    EVENT_HEADER,
    KEY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    TOLERANCE_SECONDS,
    WebhookChannel,
    verify_signature,
)
from arrears.plugins.errors import ChannelConfigError
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


NEW_SECRET = "whsec-rotation-new-fedcba9876543210fedcba"


def test_during_a_rotation_every_request_is_signed_with_each_secret_and_either_receiver_accepts(receiver):
    channel = WebhookChannel()
    channel.configure({"url": receiver.url, "secrets": [NEW_SECRET, SECRET], "timeout": 5})
    message = Renderer().render(make_message(channel="crm", channel_kind="webhook", template="agency_referral"))
    assert channel.deliver(message).ok                     # the receiver still knows only the old one
    headers, body = receiver.raw[0]
    values = headers[SIGNATURE_HEADER].split(",")
    assert len(values) == 2 and all(v.startswith("sha256=") for v in values)
    stamp = headers[TIMESTAMP_HEADER]
    assert verify_signature(NEW_SECRET, body, headers[SIGNATURE_HEADER], stamp)     # a receiver moved on
    assert verify_signature([NEW_SECRET, SECRET], body, values[1], stamp)           # one rotating too
    assert not verify_signature("whsec-someone-else-0000000000000000000000", body, headers[SIGNATURE_HEADER], stamp)
    assert not verify_signature(NEW_SECRET, body, values[1], stamp)                 # only the old one's value
    channel.configure({"url": receiver.url, "secrets": [NEW_SECRET], "timeout": 5})  # rotation over
    assert channel.deliver(Renderer().render(make_message(channel="crm", channel_kind="webhook", stage="s2",
                                                          template="agency_referral"))).status == "failed_permanent"
    assert len(receiver.accepted) == 1                     # the old receiver refuses (401) the new secret alone


def test_an_endpoint_receives_only_the_event_types_it_subscribes_to(receiver):
    channel = WebhookChannel()
    channel.configure({"url": receiver.url, "secret": SECRET, "timeout": 5,
                       "events": ["message.refer_to_agency", "message.write_off"]})
    referral = Renderer().render(make_message(channel="crm", channel_kind="webhook", action_type="refer_to_agency",
                                              template="agency_referral"))
    reminder = Renderer().render(make_message(channel="crm", channel_kind="webhook", action_type="reminder",
                                              stage="reminder", template="agency_referral"))
    skipped = channel.deliver(reminder)
    assert skipped.status == "failed_permanent" and "does not subscribe to message.reminder" in skipped.detail
    assert channel.deliver(referral).ok
    [(headers, body)] = receiver.raw                       # the reminder never left
    assert headers[EVENT_HEADER] == "message.refer_to_agency"
    document = json.loads(body)
    assert document["event"] == "message.refer_to_agency"
    jsonschema.Draft202012Validator(BODY_SCHEMA).validate(document)
    assert "message.refer_to_agency" in channel.describe()


def test_an_unknown_event_type_is_a_configuration_error_naming_it():
    with pytest.raises(ChannelConfigError) as err:
        WebhookChannel().configure({"url": "https://example.com/hook", "secret": SECRET,
                                    "events": ["message.refer_to_agency", "message.reminderr", "payment.made"]})
    text = str(err.value)
    assert "events[1]: unknown value 'message.reminderr'" in text and "events[2]: unknown value 'payment.made'" in text


@pytest.mark.parametrize("settings, problem", [
    ({"secret": SECRET, "secrets": [NEW_SECRET]}, "give one of secret, secret_env, secrets or secrets_env"),
    ({"secrets": [NEW_SECRET, "short"]}, "secrets[1] must be at least 32 bytes long"),
    ({"secrets": [SECRET, SECRET]}, "the same secret is given twice"),
    ({"secrets_env": ["ARREARS_TEST_UNSET_WEBHOOK_SECRET"]}, "ARREARS_TEST_UNSET_WEBHOOK_SECRET (from secrets_env[0]) is not set"),
    ({}, "secret (or secret_env, secrets, secrets_env) is required"),
])
def test_rotation_secrets_are_checked_at_start(settings, problem, monkeypatch):
    monkeypatch.delenv("ARREARS_TEST_UNSET_WEBHOOK_SECRET", raising=False)
    with pytest.raises(ChannelConfigError) as err:
        WebhookChannel().configure({"url": "https://example.com/hook", **settings})
    assert problem in str(err.value) and "short" not in str(err.value).replace("shorter", "")


def test_the_body_schema_in_the_api_guide_is_the_one_the_channel_sends_by():
    guide = (Path(__file__).resolve().parents[2] / "docs" / "api-guide.md").read_text(encoding="utf-8")
    block = guide.split("<!-- webhook-body-schema -->", 2)[1].split("```json", 1)[1].split("```", 1)[0]
    assert json.loads(block) == BODY_SCHEMA
