"""Built-in `webhook` channel: POST the message as signed JSON.

Settings (`channels.webhook`):
  url      endpoint (required)
  secret   shared secret for the signature, or `secret_env` (required; at least
           MIN_SECRET_BYTES = 32 bytes, e.g. `secrets.token_hex(32)`)
  headers  extra HTTP headers
  timeout  seconds (default 10)

Each request carries `X-Arrears-Timestamp: <Unix seconds>`, `X-Arrears-Signature:
sha256=<hex HMAC-SHA256 of "<timestamp>." followed by the raw body>` and
`X-Arrears-Idempotency-Key`. Signing the timestamp with the body stops a replay: a
receiver recomputes the signature over the timestamp header and the body it received,
compares in constant time, and refuses a timestamp more than TOLERANCE_SECONDS (300) from
its own clock (`verify_signature` does all three); it de-duplicates on the idempotency
key, since a delivery may be retried. The timestamp is also in the body as `sent_at`.
Retry classification is that of `arrears.plugins.channels.http`.
"""
from __future__ import annotations

import hashlib
import hmac
import time

from arrears.plugins import hookimpl
from arrears.plugins.channels import Channel, Settings
from arrears.plugins.channels.http import check_url, classify, encode, post_json
from arrears.plugins.message import DeliveryResult, Message

SIGNATURE_HEADER = "X-Arrears-Signature"
TIMESTAMP_HEADER = "X-Arrears-Timestamp"
KEY_HEADER = "X-Arrears-Idempotency-Key"
MIN_SECRET_BYTES = 32       # 256 bits, the size of the HMAC-SHA256 key's hash
TOLERANCE_SECONDS = 300     # how far a receiver accepts the timestamp from its own clock


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The signature header value: ``sha256=<hex HMAC-SHA256 of b"<timestamp>." + body>``."""
    content = str(timestamp).encode("ascii") + b"." + body
    return "sha256=" + hmac.new(secret.encode("utf-8"), content, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, signature: str | None, timestamp: str | None, *,
                     now: float | None = None, tolerance: int = TOLERANCE_SECONDS) -> bool:
    """For a receiver: True if `signature` (the `X-Arrears-Signature` header) signs `timestamp`
    (the `X-Arrears-Timestamp` header) and `body` (the raw request body) under `secret`, and
    `timestamp` is within `tolerance` seconds of `now` (default: this machine's clock).
    Compares in constant time; False for a missing or malformed header."""
    if not signature or not timestamp or not timestamp.isdigit() or not timestamp.isascii():
        return False
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


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
        self.secret = s.secret("secret", required=True, min_bytes=MIN_SECRET_BYTES)
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
        headers.update({SIGNATURE_HEADER: sign(self.secret, timestamp, body),
                        TIMESTAMP_HEADER: str(timestamp),
                        KEY_HEADER: message.idempotency_key})
        return classify(post_json(self.url, body, headers, self.timeout), self.url, "id", self.clock())


@hookimpl(trylast=True)
def arrears_channels():
    """The built-in webhook channel."""
    return [WebhookChannel()]
