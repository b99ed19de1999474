"""A contact delivered on the fallback channel is in the history, on the channel that
carried it (issue 11 item 18): the email bounces at a real SMTP server (aiosmtpd), the
SMS goes out through a real HTTP provider, and caps and stage progress count the SMS."""
from __future__ import annotations

from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller

from arrears.engine.decisions.core import decide
from arrears.engine.domain.batch import Batch
from arrears.engine.domain.clock import as_epoch
from arrears.engine.facts.compute import Facts
from arrears.engine.tick import dispatch_due, run_tick
from arrears.engine.tick.resolve import resolve_unknown
from arrears.plugins import hookimpl
from arrears.plugins.dispatch import Dispatcher
from arrears.plugins.message import DeliveryResult
from arrears.plugins.testing import plugin_manager
from tests.tick.tickkit import MONDAY, WEBHOOK_SECRET, account, load, rows
from tests.serving import unused_ports

pytestmark = pytest.mark.also_postgresql


class Bouncing:
    """aiosmtpd handler refusing every recipient for good (a permanent failure)."""

    def __init__(self):
        self.refused = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        self.refused.append(address)
        return "550 5.1.1 No such user"


@pytest.fixture
def bouncing_smtp():
    handler = Bouncing()
    controller = Controller(handler, hostname="127.0.0.1", port=unused_ports(1)[0])
    controller.start()
    try:
        yield handler, controller.port
    finally:
        controller.stop()


@pytest.fixture
def mixed(server, bouncing_smtp):
    """Email through the real SMTP server; SMS through the signed webhook to `server`."""
    _, port = bouncing_smtp
    return Dispatcher(plugin_manager(), {
        "channels": {"email": {"host": "127.0.0.1", "port": port, "from_address": "ar@example.com"},
                     "webhook": {"url": server.url + "/hook", "secret": WEBHOOK_SECRET, "timeout": 5}},
        "routes": {"sms": "webhook"}, "creditor": {"name": "Example Ltd"}})


def _contacts(store, account_id="A1"):
    _, history = store.get_account(account_id)
    return [(e.channel, e.stage, e.outcome) for e in history if e.type == "contact_attempt"]


def test_the_fallback_channels_delivery_is_recorded_and_counted(store, policy, server, bouncing_smtp, mixed):
    smtp, _ = bouncing_smtp
    load(store, [account("A1", contact={"email": "a1@example.com", "mobile": "+447700900123"})])
    first = run_tick(store, policy, MONDAY, dispatcher=mixed)
    assert (first.delivered, first.failed) == (0, 1) and smtp.refused == ["a1@example.com"]
    assert _contacts(store) == [("email", "friendly_reminder", "failed")]

    # The next tick falls back to SMS for the same step: the outbox row is revived.
    second = run_tick(store, policy, MONDAY + timedelta(minutes=5), dispatcher=mixed)
    assert second.delivered == 1 and len(server.requests) == 1
    assert server.requests[0].json()["message"]["channel"] == "sms"
    assert rows(store, "SELECT id, channel, status FROM outbox") == [(1, "sms", "sent")]
    # Both the failed attempt and the delivered contact are in the history, each on its channel.
    assert _contacts(store) == [("email", "friendly_reminder", "failed"), ("sms", "friendly_reminder", "sent")]
    keys = [k for (k,) in rows(store, "SELECT event_key FROM events WHERE type = 'contact_attempt' ORDER BY seq")]
    assert keys == ["outbox:1", "outbox:1/2"]

    # The engine sees the SMS: the step is not offered again, the next attempt waits.
    later = MONDAY + timedelta(minutes=10)
    third = run_tick(store, policy, later, dispatcher=mixed)
    assert third.delivered == 0 and third.actions_queued == 0 and len(server.requests) == 1
    acct, history = store.get_account("A1")
    decision = decide(acct, history, policy, later)
    assert decision.stage == "friendly_reminder"
    assert decision.action is None or (decision.action.attempt == 2 and decision.action.not_before > later)
    # and frequency caps count it: one contact attempt (the SMS) in the last 7 days
    facts = Facts(Batch.from_objects([acct], [history]), policy, as_epoch(later))
    assert facts.contacts(7).tolist() == [1] and facts.contacts(7, "sms").tolist() == [1]
    assert store.verify_audit().ok


class SettledMeanwhile:
    """A provider so slow that, before it answers, another dispatch run has marked the row
    `unknown` and an operator has settled it by hand as sent."""

    def __init__(self, store, policy, other):
        self.store, self.policy, self.other = store, policy, other

    @hookimpl
    def arrears_deliver(self, message, channel):
        later = MONDAY + timedelta(minutes=1)
        assert dispatch_due(self.store, self.policy, self.other, later).unknown == 1
        resolve_unknown(self.store, self.policy, 1, sent=True, now=later, note="seen at the provider")
        return DeliveryResult.sent("msg-slow")


def test_a_run_that_outlived_a_settlement_by_hand_records_no_second_contact(store, policy, dispatcher):
    """Only the run that still owns the row records its outcome: with a key per outcome, a
    late run would otherwise add a second contact for the one the operator recorded."""
    load(store, [account("A1")])
    slow = Dispatcher(plugin_manager(SettledMeanwhile(store, policy, dispatcher)), dispatcher.config)
    run_tick(store, policy, MONDAY, dispatcher=slow)
    assert rows(store, "SELECT status, last_error FROM outbox") == [("sent", None)]
    assert _contacts(store) == [("email", "friendly_reminder", "sent")]
    assert [k for (k,) in rows(store, "SELECT event_key FROM events")] == ["outbox:1"]
    assert store.verify_audit().ok
