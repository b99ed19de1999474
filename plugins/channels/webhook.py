"""Built-in `webhook` channel: POST the message as signed JSON.

Settings (`channels.webhook`):
  url      endpoint (required)
  secret   shared secret for the signature, or `secret_env` (required; at least
           MIN_SECRET_BYTES = 32 bytes, e.g. `secrets.token_hex(32)`); during a rotation
           `secrets` (a list) or `secrets_env` (a list of environment variable names)
           instead: every request is signed with each
  events   the event types the endpoint subscribes to (default: all of EVENT_TYPES);
           an unknown one is a configuration error at start
  headers  extra HTTP headers
  timeout  seconds (default 10)

Each request carries `X-Arrears-Timestamp: <Unix seconds>`, `X-Arrears-Signature:
sha256=<hex HMAC-SHA256 of "<timestamp>." followed by the raw body>` (one such value per
active secret, comma-separated, during a rotation), `X-Arrears-Event` (the event type)
and `X-Arrears-Idempotency-Key`. Signing the timestamp with the body stops a replay: a
receiver recomputes the signature over the timestamp header and the body it received,
compares in constant time with each value of the header, and refuses a timestamp more than
TOLERANCE_SECONDS (300) from its own clock (`verify_signature` does all of it, with one
secret or several); it de-duplicates on the idempotency key, since a delivery may be
retried. The body is described by BODY_SCHEMA (a JSON Schema, printed in docs/api-guide.md).
Retry classification is that of `arrears.plugins.channels.http`.
"""
from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable

from arrears.engine.domain.model import ACTION_TYPES
from arrears.engine.guardrails.ruletext import CONTENT_BITS
from arrears.plugins import hookimpl
from arrears.plugins.channels import Channel, Settings
from arrears.plugins.channels.http import check_url, classify, encode, post_json
from arrears.plugins.message import DeliveryResult, Message

SIGNATURE_HEADER = "X-Arrears-Signature"
TIMESTAMP_HEADER = "X-Arrears-Timestamp"
EVENT_HEADER = "X-Arrears-Event"
KEY_HEADER = "X-Arrears-Idempotency-Key"
MIN_SECRET_BYTES = 32       # 256 bits, the size of the HMAC-SHA256 key's hash
TOLERANCE_SECONDS = 300     # how far a receiver accepts the timestamp from its own clock
SCHEME = "sha256="
# The event types an endpoint may subscribe to: a message of each action the engine takes.
EVENT_TYPES = tuple(f"message.{action}" for action in ACTION_TYPES)


_TEXT = {"type": "string"}
_MAYBE = {"type": ["string", "null"]}
# The JSON Schema of a request's body (docs/api-guide.md prints it; tests check both).
BODY_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Arrears webhook body",
    "type": "object",
    "required": ["type", "event", "sent_at", "idempotency_key", "message"],
    "additionalProperties": False,
    "properties": {
        "type": {"const": "arrears.message", "description": "What the body carries: one message."},
        "event": {"enum": list(EVENT_TYPES), "description": "The event type (also the X-Arrears-Event "
                                                            "header): `message.` and the action type."},
        "sent_at": {"type": "integer", "description": "Unix seconds; the signed X-Arrears-Timestamp."},
        "idempotency_key": {"type": "string", "description": "The same for every retry of this contact "
                                                             "on this channel: de-duplicate on it."},
        "message": {
            "type": "object",
            "description": "The rendered message (arrears.plugins.message.Message.to_dict()).",
            "required": ["account_id", "action_type", "stage", "attempt", "channel", "channel_kind",
                         "template", "tone", "language", "not_before", "recipient", "content",
                         "context", "metadata", "subject", "body", "body_format", "idempotency_key"],
            "properties": {
                "account_id": _TEXT, "action_type": {"enum": list(ACTION_TYPES)}, "stage": _TEXT,
                "attempt": {"type": "integer", "minimum": 1}, "channel": _TEXT, "channel_kind": _TEXT,
                "template": _TEXT, "tone": _TEXT, "language": _TEXT,
                "not_before": {"type": "string", "format": "date-time"},
                "recipient": {"type": "object", "properties": {
                    k: _MAYBE for k in ("email", "phone", "mobile", "address")}},
                "content": {"type": "array", "items": {"enum": list(CONTENT_BITS)}},
                "context": {"type": "object", "description": "The template variables."},
                "metadata": {"type": "object", "description": "Host facts: priority, debtor_id, "
                                                              "episode, outbox_id, …"},
                "subject": _MAYBE, "body": _MAYBE, "body_format": {"enum": ["text", "html"]},
                "idempotency_key": _TEXT,
            },
        },
    },
}


def event_type(message: Message) -> str:
    """The event type of a message: `message.` and its action type (`message.refer_to_agency`)."""
    return f"message.{message.action_type}"


def sign(secrets: str | Iterable[str], timestamp: int | str, body: bytes) -> str:
    """The signature header value: ``sha256=<hex HMAC-SHA256 of b"<timestamp>." + body>`` under
    each secret, in order, joined by commas (one value for one secret)."""
    content = str(timestamp).encode("ascii") + b"." + body
    keys = [secrets] if isinstance(secrets, str) else list(secrets)
    return ",".join(SCHEME + hmac.new(k.encode("utf-8"), content, hashlib.sha256).hexdigest() for k in keys)


def verify_signature(secrets: str | Iterable[str], body: bytes, signature: str | None,
                     timestamp: str | None, *, now: float | None = None,
                     tolerance: int = TOLERANCE_SECONDS) -> bool:
    """For a receiver: True if one of the `sha256=` values of `signature` (the
    `X-Arrears-Signature` header) signs `timestamp` (the `X-Arrears-Timestamp` header) and
    `body` (the raw request body) under one of `secrets` (a secret, or several while they are
    rotated), and `timestamp` is within `tolerance` seconds of `now` (default: this machine's
    clock). Compares in constant time; False for a missing or malformed header."""
    if not signature or not timestamp or not timestamp.isdigit() or not timestamp.isascii():
        return False
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > tolerance:
        return False
    offered = [v.strip() for v in signature.split(",") if v.strip().startswith(SCHEME)]
    expected = sign(secrets, timestamp, body).split(",")
    return any(hmac.compare_digest(e, o) for e in expected for o in offered)


def payload(message: Message, timestamp: int) -> dict:
    """The JSON document POSTed for `message` (BODY_SCHEMA describes it)."""
    return {"type": "arrears.message", "event": event_type(message), "sent_at": timestamp,
            "idempotency_key": message.idempotency_key, "message": message.to_dict()}


class WebhookChannel(Channel):
    """Signed JSON POSTs to an HTTP endpoint (a CRM, a ticketing system, an agency)."""

    kind = "webhook"
    name = "signed webhook"

    def configure(self, settings) -> None:
        """Validate the URL, the secret(s), the subscribed events, extra headers and the timeout."""
        s = Settings(self.kind, settings)
        self.url = check_url(s)
        self.secrets = s.secrets("secret", required=True, min_bytes=MIN_SECRET_BYTES)
        self.events = frozenset(s.strings("events", choices=EVENT_TYPES) or EVENT_TYPES)
        self.headers = s.mapping("headers")
        self.timeout = s.number("timeout", default=10.0)
        s.check()
        self.configured = True

    def describe(self) -> str:
        """Where messages go, and which events when not all."""
        where = f"{self.name} -> {getattr(self, 'url', '(not configured)')}"
        events = getattr(self, "events", frozenset(EVENT_TYPES))
        return where if len(events) == len(EVENT_TYPES) else f"{where} ({', '.join(sorted(events))})"

    def deliver(self, message: Message) -> DeliveryResult:
        """POST the signed payload and classify the reply; a message of an event type the
        endpoint does not subscribe to fails for good (the engine moves to the stage's next
        channel), as one without an address would."""
        event = event_type(message)
        if event not in self.events:
            return DeliveryResult.permanent(f"the webhook endpoint {self.url} does not subscribe to {event} "
                                            f"(channels.webhook.events)")
        timestamp = int(self.clock().timestamp())
        body = encode(payload(message, timestamp))
        headers = dict(self.headers)
        headers.update({SIGNATURE_HEADER: sign(self.secrets, timestamp, body),
                        TIMESTAMP_HEADER: str(timestamp), EVENT_HEADER: event,
                        KEY_HEADER: message.idempotency_key})
        return classify(post_json(self.url, body, headers, self.timeout), self.url, "id", self.clock())


@hookimpl(trylast=True)
def arrears_channels():
    """The built-in webhook channel."""
    return [WebhookChannel()]
