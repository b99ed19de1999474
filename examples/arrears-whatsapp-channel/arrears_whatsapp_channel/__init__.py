"""An Arrears channel kind of its own: WhatsApp, through an HTTP provider.

Two hooks: `arrears_channel_kinds` declares the kind `whatsapp` (reported as "WhatsApp",
treated by the jurisdiction profiles as a text message, reaching the debtor's mobile, only
with the debtor's consent, with its own opt-out wording); `arrears_channels` provides the
transport, a JSON POST to the provider. A policy then names the kind like a built-in one:

    channels:
      whatsapp: {kind: whatsapp}

Settings (`[channels.whatsapp]`): `url` (required), `token` or `token_env` (required),
`timeout` (seconds, default 10).
"""
from __future__ import annotations

from pathlib import Path

from arrears.plugins import hookimpl
from arrears.plugins.channels import Channel, Settings
from arrears.plugins.channels.http import check_url, deliver_json
from arrears.plugins.channels.sms import plain_text
from arrears.plugins.kinds import ChannelKind
from arrears.plugins.message import DeliveryResult

__version__ = "0.1.0"

KIND = ChannelKind(
    "whatsapp", "WhatsApp", guardrail_class="text_message", reach="mobile", consent=True,
    opt_out={"en": "Reply STOP to stop WhatsApp messages from {creditor}.",
             "fr": "Répondez STOP pour ne plus recevoir de messages WhatsApp de {creditor}.",
             "de": "Antworten Sie STOP, um keine WhatsApp-Nachrichten mehr von {creditor} zu erhalten."})


class WhatsAppChannel(Channel):
    """Text messages through a WhatsApp Business provider's JSON API."""

    kind = "whatsapp"
    name = "WhatsApp via HTTP provider"

    def configure(self, settings):
        """The provider's URL, its token and the timeout; every problem at once."""
        s = Settings(self.kind, settings)
        self.url = check_url(s)
        self.token = s.secret("token", required=True)
        self.timeout = s.number("timeout", default=10.0)
        s.check()
        self.configured = True

    def describe(self):
        """Where messages go."""
        return f"{self.name} -> {getattr(self, 'url', '(not configured)')}"

    def deliver(self, message):
        """POST one text; the provider's message id comes back as the provider id."""
        if not message.recipient.mobile:
            return DeliveryResult.permanent("the account has no mobile number for WhatsApp")
        payload = {"to": message.recipient.mobile, "type": "text",
                   "text": {"body": plain_text(message.body, message.body_format)},
                   "client_reference": message.idempotency_key}
        return deliver_json(self.url, payload, id_field="id",
                            headers={"Authorization": f"Bearer {self.token}",
                                     "Idempotency-Key": message.idempotency_key},
                            timeout=self.timeout, now=self.clock())


@hookimpl
def arrears_channel_kinds():
    """The `whatsapp` kind."""
    return [KIND]


@hookimpl
def arrears_channels():
    """Its transport."""
    return [WhatsAppChannel()]


@hookimpl
def arrears_template_dirs():
    """Short texts for the kind (`<template>.<language>.whatsapp.j2`)."""
    return [Path(__file__).parent / "templates"]
