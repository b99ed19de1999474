"""An Arrears channel plugin that posts each message as a card to a Teams incoming webhook.

Install it next to Arrears (``pip install -e examples/arrears-teams-channel``); the
entry point in pyproject.toml registers this module as the plugin ``teams``. Configure::

    [channels.teams]
    webhook_url_env = "TEAMS_WEBHOOK_URL"   # or webhook_url = "https://…"

    [routes]
    review = "teams"     # deliver the policy's `review` channel (kind task) to Teams

It also adds a fact policies can use, ``x_teams_strategic_customer`` (see
`arrears_teams_channel.strategic` and ``policies/strategic.yaml``), and mints a signed
payment link for each message (see `arrears_teams_channel.paylink`).
"""
from __future__ import annotations

from pathlib import Path

from arrears.plugins import hookimpl
from arrears.plugins.channels import Channel, Settings
from arrears.plugins.channels.http import deliver_json
from arrears.plugins.message import DeliveryResult, Message
from arrears_teams_channel import strategic
from arrears_teams_channel.paylink import arrears_payment_link  # noqa: F401  (a hook of this plugin)

__version__ = "0.1.0"

TEMPLATES = Path(__file__).resolve().parent / "templates"


def card(message: Message) -> dict:
    """The Teams message: one Adaptive Card with the subject, body and key facts."""
    facts = [{"title": "Account", "value": message.account_id},
             {"title": "Stage", "value": f"{message.stage} (attempt {message.attempt})"},
             {"title": "Key", "value": message.idempotency_key}]
    manager = message.metadata.get("account_manager")
    if manager:
        facts.append({"title": "Account manager", "value": str(manager)})
    return {
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": [
                    {"type": "TextBlock", "size": "Medium", "weight": "Bolder", "wrap": True,
                     "text": message.subject or f"Arrears: {message.stage}"},
                    {"type": "TextBlock", "wrap": True, "text": message.body or ""},
                    {"type": "FactSet", "facts": facts},
                ],
            },
        }],
    }


class TeamsChannel(Channel):
    """Posts cards to a Teams incoming-webhook URL."""

    kind = "teams"
    name = "Microsoft Teams card"

    def configure(self, settings) -> None:
        """Require the webhook URL (inline or from an environment variable)."""
        s = Settings(self.kind, settings)
        # The URL embeds a credential, so it may come from the environment instead.
        self.url = s.secret("webhook_url", required=True)
        if self.url:
            s.require(self.url.startswith(("http://", "https://")), "webhook_url must be an http(s) URL")
        self.timeout = s.number("timeout", default=10.0)
        s.check()
        self.configured = True

    def describe(self) -> str:
        """Where cards go (without the secret part of the URL)."""
        return f"{self.name} -> {(getattr(self, 'url', None) or '?').split('?')[0]}"

    def deliver(self, message: Message) -> DeliveryResult:
        """Post the card; the host's HTTP helper classifies the reply (5xx/429 retry)."""
        return deliver_json(self.url, card(message), timeout=self.timeout,
                            headers={"Idempotency-Key": message.idempotency_key}, now=self.clock())


@hookimpl
def arrears_channels():
    """This plugin's channels."""
    return [TeamsChannel()]


@hookimpl
def arrears_template_dirs():
    """Teams-specific templates (`<template>.<lang>.teams.j2`); others fall back."""
    return [TEMPLATES]


@hookimpl
def arrears_facts():
    """Facts for policy conditions: the CRM's strategic-customer flag."""
    return [strategic.FACT]
