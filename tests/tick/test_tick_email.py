"""The tick delivering through the built-in email channel to a real SMTP server (aiosmtpd)."""
from __future__ import annotations

from email import message_from_bytes
from email import policy as email_policy

import pytest
from aiosmtpd.controller import Controller

from arrears.engine.tick import run_tick
from arrears.plugins.dispatch import Dispatcher
from arrears.plugins.testing import plugin_manager
from tests.tick.tickkit import MONDAY, account, load, rows
from tests.serving import unused_ports


class Mailbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's naming)
        parsed = message_from_bytes(envelope.content, policy=email_policy.default)
        self.messages.append((envelope.rcpt_tos, parsed))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp():
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=unused_ports(1)[0])
    controller.start()
    try:
        yield mailbox, controller.port
    finally:
        controller.stop()


def test_a_reminder_is_emailed_once_and_recorded(store, policy, smtp):
    mailbox, port = smtp
    dispatcher = Dispatcher(plugin_manager(), {
        "channels": {"email": {"host": "127.0.0.1", "port": port, "from_address": "ar@example.com"}},
        "creditor": {"name": "Example Ltd"}})
    load(store, [account("A1")])
    summary = run_tick(store, policy, MONDAY, dispatcher=dispatcher)
    assert summary.delivered == 1 and summary.failed == 0
    (recipients, message), = mailbox.messages
    assert recipients == ["a1@example.com"] and message["From"].addresses[0].addr_spec == "ar@example.com"
    assert "Example Ltd" in message.get_body(("plain", "html")).get_content()
    assert rows(store, "SELECT channel, status FROM outbox") == [("email", "sent")]
    run_tick(store, policy, MONDAY.replace(hour=11), dispatcher=dispatcher)
    assert len(mailbox.messages) == 1
