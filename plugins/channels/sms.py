"""Built-in `sms` channel: POST a JSON message to an SMS provider's HTTP API.

Settings (`channels.sms`):
  url          provider endpoint (required)
  token        bearer token, or `token_env` naming an environment variable
  auth_scheme  the Authorization scheme (default "Bearer")
  sender       sender id or number put in the `from` field
  fields       rename the JSON fields: {to, from, text, reference} -> provider names
  id_field     dotted path of the provider's message id in its JSON reply (default "id")
  headers      extra HTTP headers
  timeout      seconds (default 10)
The body sent is ``{"to": mobile, "from": sender, "text": body, "reference": key}`` and
an `Idempotency-Key` header carries the message's idempotency key.
"""
from __future__ import annotations

import re

from arrears.plugins import hookimpl
from arrears.plugins.channels import Channel, Settings
from arrears.plugins.channels.http import check_url, deliver_json
from arrears.plugins.message import DeliveryResult, Message

FIELDS = ("to", "from", "text", "reference")


def plain_text(body: str, body_format: str) -> str:
    """The text of a body: HTML tags dropped for an HTML body."""
    if body_format != "html":
        return body
    import html
    text = re.sub(r"<(br|/p|/div|/li|/h\d)\s*/?>", "\n", body, flags=re.IGNORECASE)
    return html.unescape(re.sub(r"<[^>]+>", "", text)).strip()


class SmsChannel(Channel):
    """Text messages through a configurable HTTP provider API."""

    kind = "sms"
    name = "SMS via HTTP provider"

    def configure(self, settings) -> None:
        """Validate the provider URL, credentials, field names and timeout."""
        s = Settings(self.kind, settings)
        self.url = check_url(s)
        self.token = s.secret("token")
        self.auth_scheme = s.str("auth_scheme", default="Bearer")
        self.sender = s.str("sender")
        self.fields = {f: f for f in FIELDS}
        renamed = s.mapping("fields")
        for key in renamed:
            s.require(key in FIELDS, f"fields.{key} is not a field; fields are {', '.join(FIELDS)}")
        self.fields.update({k: v for k, v in renamed.items() if k in FIELDS})
        self.id_field = s.str("id_field", default="id")
        self.headers = s.mapping("headers")
        self.timeout = s.number("timeout", default=10.0)
        s.check()
        self.configured = True

    def describe(self) -> str:
        """Where messages go."""
        return f"{self.name} -> {getattr(self, 'url', '(not configured)')}"

    def deliver(self, message: Message) -> DeliveryResult:
        """Send the text to the debtor's mobile number; classify the provider's reply."""
        to = message.recipient.mobile
        if not to:
            return DeliveryResult.permanent("the account has no mobile number for SMS")
        if not message.body:
            return DeliveryResult.permanent("the message has no body to send")
        values = {"to": to, "from": self.sender, "text": plain_text(message.body, message.body_format),
                  "reference": message.idempotency_key}
        payload = {self.fields[k]: v for k, v in values.items() if v is not None}
        headers = dict(self.headers)
        headers["Idempotency-Key"] = message.idempotency_key
        if self.token:
            headers["Authorization"] = f"{self.auth_scheme} {self.token}"
        return deliver_json(self.url, payload, headers=headers, timeout=self.timeout,
                            id_field=self.id_field, now=self.clock())


@hookimpl(trylast=True)
def arrears_channels():
    """The built-in SMS channel."""
    return [SmsChannel()]
