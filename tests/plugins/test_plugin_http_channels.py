"""The SMS and webhook channels against a real local HTTP server."""
from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from arrears.plugins.channels.http import deliver_json
from arrears.plugins.channels.sms import SmsChannel
from arrears.plugins.channels.webhook import (
    MIN_SECRET_BYTES,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    TOLERANCE_SECONDS,
    WebhookChannel,
    sign,
    verify_signature,
)
from arrears.plugins.errors import ChannelConfigError
from arrears.plugins.message import Recipient
from arrears.plugins.rendering import Renderer
from arrears.plugins.testing import free_port, make_message

SMS_TEXT = make_message(channel="sms", channel_kind="sms", content=("opt_out",))
SECRET = "whsec-0123456789abcdef0123456789abcdef"        # at least MIN_SECRET_BYTES


def sms(url, **extra) -> SmsChannel:
    channel = SmsChannel()
    channel.configure({"url": url, "token": "tok", "sender": "EXAMPLE", "timeout": 2, **extra})
    return channel


def webhook(url, **extra) -> WebhookChannel:
    channel = WebhookChannel()
    channel.configure({"url": url, "secret": SECRET, "timeout": 2, **extra})
    channel.clock = lambda: datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
    return channel


def test_sms_posts_json_with_auth_and_opt_out(http_server):
    http_server.reply(201, {"message": {"id": "SM123"}})
    message = Renderer().render(SMS_TEXT)
    result = sms(http_server.url + "/send", id_field="message.id").deliver(message)
    assert result.ok and result.provider_id == "SM123"
    request = http_server.requests[0]
    assert request.path == "/send"
    assert request.headers["Authorization"] == "Bearer tok"
    assert request.headers["Idempotency-Key"] == "A1:friendly_reminder:1:sms"
    body = request.json()
    assert body["to"] == "+447700900000" and body["from"] == "EXAMPLE"
    assert body["reference"] == "A1:friendly_reminder:1:sms"
    assert body["text"].rstrip().endswith("Reply STOP to stop text messages from Example Ltd.")


def test_sms_field_names_can_be_mapped(http_server):
    message = Renderer().render(SMS_TEXT)
    assert sms(http_server.url, fields={"to": "To", "text": "Body"}).deliver(message).ok
    body = http_server.requests[0].json()
    assert "To" in body and "Body" in body and "to" not in body


@pytest.mark.parametrize("status, expected", [
    (500, "failed_retryable"), (503, "failed_retryable"), (429, "failed_retryable"),
    (408, "failed_retryable"), (400, "failed_permanent"), (401, "failed_permanent"),
    (422, "failed_permanent"), (302, "failed_permanent")])
def test_http_status_classification(http_server, status, expected):
    http_server.reply(status, {"error": "nope"})
    result = sms(http_server.url).deliver(Renderer().render(SMS_TEXT))
    assert result.status == expected
    assert f"HTTP {status}" in result.detail


def test_timeouts_and_refused_connections_are_retryable(http_server):
    http_server.reply(200, delay=1.0)
    slow = sms(http_server.url, timeout=0.2).deliver(Renderer().render(SMS_TEXT))
    assert slow.status == "failed_retryable" and "timed out" in slow.detail
    refused = sms(f"http://127.0.0.1:{free_port()}/").deliver(Renderer().render(SMS_TEXT))
    assert refused.status == "failed_retryable" and "cannot reach" in refused.detail


def test_sms_without_a_mobile_number_is_permanent(http_server):
    message = Renderer().render(make_message(channel_kind="sms", recipient=Recipient(email="x@y.z")))
    result = sms(http_server.url).deliver(message)
    assert result.status == "failed_permanent" and not http_server.requests


def test_sms_config_errors():
    with pytest.raises(ChannelConfigError) as err:
        SmsChannel().configure({"url": "ftp://x", "fields": {"phone": "p"}, "timeout": "soon"})
    text = str(err.value)
    assert "url must be an http://" in text and "fields.phone is not a field" in text
    assert "timeout must be a number" in text


def test_webhook_signature_verifies_and_timestamp_is_signed(http_server):
    message = Renderer().render(make_message(channel="crm", channel_kind="webhook",
                                             template="agency_referral", stage="agency_referral"))
    result = webhook(http_server.url + "/hook").deliver(message)
    assert result.ok, result.detail
    request = http_server.requests[0]
    signature, stamp = request.headers[SIGNATURE_HEADER], request.headers[TIMESTAMP_HEADER]
    assert stamp == str(int(datetime(2026, 11, 22, 15, 0, tzinfo=UTC).timestamp()))
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    sent = int(stamp)
    assert verify_signature(SECRET, request.body, signature, stamp, now=sent + 10)
    assert not verify_signature("x" * 40, request.body, signature, stamp, now=sent)          # other secret
    assert not verify_signature(SECRET, request.body + b" ", signature, stamp, now=sent)      # other body
    assert not verify_signature(SECRET, request.body, signature, str(sent + 60), now=sent)   # other time
    assert not verify_signature(SECRET, request.body, signature, stamp, now=sent + TOLERANCE_SECONDS + 1)
    assert not verify_signature(SECRET, request.body, signature, stamp, now=sent - TOLERANCE_SECONDS - 1)
    assert not verify_signature(SECRET, request.body, signature, None, now=sent)
    assert not verify_signature(SECRET, request.body, signature, "-1", now=sent)
    payload = request.json()
    assert payload["sent_at"] == sent
    assert payload["idempotency_key"] == "A1:agency_referral:1:crm"
    assert payload["message"]["subject"].startswith("Refer account A1")
    assert request.headers["X-Arrears-Idempotency-Key"] == message.idempotency_key


@pytest.mark.parametrize("status, expected", [(500, "failed_retryable"), (400, "failed_permanent")])
def test_webhook_retry_semantics(http_server, status, expected):
    http_server.reply(status)
    message = Renderer().render(make_message(channel_kind="webhook", template="agency_referral"))
    assert webhook(http_server.url).deliver(message).status == expected


def test_webhook_timeout_is_retryable(http_server):
    http_server.reply(200, delay=1.0)
    message = Renderer().render(make_message(channel_kind="webhook", template="agency_referral"))
    assert webhook(http_server.url, timeout=0.2).deliver(message).status == "failed_retryable"


def test_webhook_needs_a_secret():
    with pytest.raises(ChannelConfigError, match="secret"):
        WebhookChannel().configure({"url": "https://example.com/hook"})


def test_sign_is_hmac_sha256_hex_of_timestamp_dot_body():
    import hashlib
    import hmac
    body = json.dumps({"a": 1}).encode()
    expected = hmac.new(b"k", b"1795000000." + body, hashlib.sha256).hexdigest()
    assert sign("k", 1795000000, body) == sign("k", "1795000000", body) == "sha256=" + expected


@pytest.mark.parametrize("settings", [{"secret": "s" * (MIN_SECRET_BYTES - 1)},
                                      {"secret_env": "ARREARS_TEST_WEBHOOK_SECRET"}])
def test_a_webhook_secret_shorter_than_32_bytes_is_refused_without_showing_it(settings, monkeypatch):
    monkeypatch.setenv("ARREARS_TEST_WEBHOOK_SECRET", "short-secret-value")
    with pytest.raises(ChannelConfigError) as err:
        WebhookChannel().configure({"url": "https://example.com/hook", **settings})
    text = str(err.value)
    assert f"must be at least {MIN_SECRET_BYTES} bytes long" in text
    assert "sss" not in text and "short-secret-value" not in text
    WebhookChannel().configure({"url": "https://example.com/hook", "secret": "s" * MIN_SECRET_BYTES})


def test_deliver_json_reads_no_id_from_a_non_json_reply(http_server):
    http_server.reply(200, "OK")
    result = deliver_json(http_server.url, {"x": 1}, id_field="id")
    assert result.ok and result.provider_id is None


def test_retry_after_is_read_from_a_real_reply_in_seconds_or_as_an_http_date(http_server):
    from datetime import timedelta
    from email.utils import format_datetime

    from arrears.plugins.channels.http import parse_retry_after, post_json
    from arrears.plugins.message import DeliveryResult
    now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    http_server.reply(429, {"error": "slow"}, headers={"Retry-After": "120", "X-Request-Id": "r1"})
    reply = post_json(http_server.url + "/send", b"{}")
    assert reply.status == 429 and reply.header("x-request-id") == "r1"
    assert reply.headers["retry-after"] == "120"
    assert reply.retry_at(now) == now + timedelta(seconds=120)
    http_server.reply(503, headers={"Retry-After": format_datetime(now + timedelta(hours=1), usegmt=True)})
    result = deliver_json(http_server.url + "/send", {"a": 1}, now=now)
    assert result.status == "failed_retryable" and result.retry_at == now + timedelta(hours=1)
    assert "(Retry-After: " in result.detail and result.to_dict()["retry_at"] == "2026-11-23T11:00:00Z"
    http_server.reply(429)                                             # no header: ordinary backoff
    assert deliver_json(http_server.url + "/send", {}, now=now).retry_at is None
    http_server.reply(400, headers={"Retry-After": "5"})               # permanent: the header is moot
    assert deliver_json(http_server.url + "/send", {}, now=now).retry_at is None
    assert parse_retry_after("soon", now) is None and parse_retry_after("", now) is None
    assert parse_retry_after("Mon, 23 Nov 2026 09:00:00 GMT", now) == now      # a past date: now
    with pytest.raises(ValueError, match="retry_at"):
        DeliveryResult("sent", retry_at=now)
