"""Built-in `webhook` channel: POST the message as signed JSON.

Settings (`channels.webhook`):
  url      endpoint (required)
  secret   shared secret for the signature, or `secret_env` (required)
  headers  extra HTTP headers
  timeout  seconds (default 10)

Each request carries `X-Arrears-Signature: sha256=<hex HMAC-SHA256 of the raw body>`,
`X-Arrears-Timestamp` (Unix seconds) and `X-Arrears-Idempotency-Key`. The timestamp is
also inside the body as `sent_at`, so it is covered by the signature: a receiver should
verify the signature (`verify_signature`), reject stale timestamps, and de-duplicate on
the idempotency key. Retry classification is that of `arrears.plugins.channels.http`.
"""
from __future__ import annotations

import hashlib
import hmac

from arrears.plugins import hookimpl
from arrears.plugins.channels import Channel, Settings
from arrears.plugins.channels.http import check_url, classify, encode, post_json
from arrears.plugins.message import DeliveryResult, Message

SIGNATURE_HEADER = "X-Arrears-Signature"
TIMESTAMP_HEADER = "X-Arrears-Timestamp"
KEY_HEADER = "X-Arrears-Idempotency-Key"


def sign(secret: str, body: bytes) -> str:
    """The signature header value for `body`: ``sha256=<hex digest>``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, header: str | None) -> bool:
    """True if `header` is the signature of `body` under `secret` (constant-time compare)."""
    return bool(header) and hmac.compare_digest(sign(secret, body), header)


def payload(message: Message, timestamp: int) -> dict:
    """The JSON document POSTed for `message`."""
    return {"type": "arrears.message", "sent_at": timestamp,
            "idempotency_key": message.idempotency_key, "message": message.to_dict()}


class WebhookChannel(Channel):
    """Signed JSON POSTs to an HTTP endpoint (a CRM, a ticketing system, an agency)."""

    kind = "webhook"
    name = "signed webhook"

    def configure(self, settings) -> None:
        """Validate the URL, the secret, extra headers and the timeout."""
        s = Settings(self.kind, settings)
        self.url = check_url(s)
        self.secret = s.secret("secret", required=True)
        self.headers = s.mapping("headers")
        self.timeout = s.number("timeout", default=10.0)
        s.check()
        self.configured = True

    def describe(self) -> str:
        """Where messages go."""
        return f"{self.name} -> {getattr(self, 'url', '(not configured)')}"

    def deliver(self, message: Message) -> DeliveryResult:
        """POST the signed payload and classify the reply."""
        timestamp = int(self.clock().timestamp())
        body = encode(payload(message, timestamp))
        headers = dict(self.headers)
        headers.update({SIGNATURE_HEADER: sign(self.secret, body),
                        TIMESTAMP_HEADER: str(timestamp),
                        KEY_HEADER: message.idempotency_key})
        return classify(post_json(self.url, body, headers, self.timeout), self.url, "id")


@hookimpl(trylast=True)
def arrears_channels():
    """The built-in webhook channel."""
    return [WebhookChannel()]
