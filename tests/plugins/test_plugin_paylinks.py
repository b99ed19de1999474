"""Payment links (`arrears_payment_link`): minted per message, shown by the templates, never for
accounts that may not be asked to pay, reused while the stored link holds."""
from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

import pytest

from arrears.engine.decisions.core import decide
from arrears.engine.policy.load import load_policy
from arrears.plugins import hookimpl
from arrears.plugins.dispatch import Dispatcher
from arrears.plugins.message import PaymentLink
from arrears.plugins.testing import make_message, plugin_manager
from tests.core_factories import NOW, POLICY_PATH, ev, make_account

POLICY = load_policy(POLICY_PATH)
CONFIG = {"creditor": {"name": "Example Ltd", "payment_url": "https://example.com/pay"}}


class Minter:
    """Mints a fresh random link per call and remembers what it was asked."""

    def __init__(self, answer=None):
        self.calls, self.answer = [], answer

    @hookimpl
    def arrears_payment_link(self, message, amount, expires_at):
        self.calls.append((message.idempotency_key, amount, expires_at))
        if self.answer is not None:
            if isinstance(self.answer, Exception):
                raise self.answer
            return self.answer
        return PaymentLink(f"https://pay.example.com/l/{uuid.uuid4().hex}")


def sent(account, events=(), minter=None):
    """(decision, rendered message, failures) the way the tick composes and renders."""
    minter = minter or Minter()
    dispatcher = Dispatcher(plugin_manager(minter), CONFIG)
    decision = decide(account, list(events), POLICY, NOW)
    message, failures = dispatcher.attach_payment_link(dispatcher.compose(decision, account))
    return decision, dispatcher.render(message), failures


def test_a_link_is_minted_for_the_overdue_amount_and_shown():
    minter = Minter()
    decision, message, failures = sent(make_account(amount="1000.00", due_date="2026-11-15"), minter=minter)
    assert decision.action.channel_kind == "email" and failures == []
    (key, amount, expires), = minter.calls
    assert amount == {"amount": "1000.00", "currency": "EUR"}
    assert expires == NOW + timedelta(days=14)
    link = message.context["payment_link"]
    assert link["url"].startswith("https://pay.example.com/l/")
    assert link["expires_at"] == "2026-12-06T15:00:00Z"
    assert f"Pay €1,000.00 online: {link['url']} (link valid until 6 December 2026)" in message.body
    assert "https://example.com/pay" not in message.body      # the minted link replaces the general page


@pytest.mark.parametrize("state", [
    [ev("dispute_opened", "2026-11-20T10:00:00Z", invoice_id="I2")],
    [ev("cease_communication", "2026-11-20T10:00:00Z")],
    [ev("bankruptcy", "2026-11-20T10:00:00Z")],
], ids=["disputed", "ceased", "bankrupt"])
def test_no_link_is_minted_or_shown_for_disputed_ceased_or_bankrupt_accounts(state):
    account = make_account(invoices=[{"id": "I1", "amount": "600.00", "due_date": "2026-11-10"},
                                     {"id": "I2", "amount": "90.00", "due_date": "2026-11-12"}])
    decision = decide(account, state, POLICY, NOW)
    assert decision.payable is False
    minter = Minter()
    dispatcher = Dispatcher(plugin_manager(minter), CONFIG)
    # Whatever the engine decided, a message for this decision carries no link.
    message = make_message(context={"payable": decision.payable})
    linked, failures = dispatcher.attach_payment_link(message)
    assert minter.calls == [] and failures == [] and linked.context["payment_link"] is None
    body = dispatcher.render(linked).body
    assert "pay.example.com" not in body and "example.com/pay" not in body and "Pay " not in body
    if decision.action is not None:         # the disputed account is still reminded of I1
        _, rendered, _ = sent(account, state, minter)
        assert rendered.action_type and minter.calls == [] and rendered.context["payment_link"] is None
        assert "pay.example.com" not in rendered.body and "example.com/pay" not in rendered.body


@pytest.mark.parametrize("kind", ["call", "task", "webhook"])
def test_only_written_messages_get_a_link(kind):
    minter = Minter()
    dispatcher = Dispatcher(plugin_manager(minter), CONFIG)
    linked, _ = dispatcher.attach_payment_link(make_message(channel_kind=kind))
    assert minter.calls == [] and linked.context["payment_link"] is None


def test_a_stored_link_is_reused_while_its_amount_holds():
    minter = Minter()
    dispatcher = Dispatcher(plugin_manager(minter), CONFIG)
    message = make_message(metadata={"evaluated_at": "2026-11-22T15:00:00Z"})
    first, _ = dispatcher.attach_payment_link(message)
    again, _ = dispatcher.attach_payment_link(message, first.context["payment_link"])
    assert again.context["payment_link"] == first.context["payment_link"] and len(minter.calls) == 1
    # a payment since: the old link is for the wrong amount, so a new one is minted
    paid = replace(message, context={**message.context,
                                     "overdue_balance": {"amount": "400.00", "currency": "EUR"}})
    fresh, _ = dispatcher.attach_payment_link(paid, first.context["payment_link"])
    assert fresh.context["payment_link"]["amount"]["amount"] == "400.00" and len(minter.calls) == 2
    # an expired one likewise
    later = replace(message, metadata={"evaluated_at": "2026-12-07T15:00:00Z"})
    renewed, _ = dispatcher.attach_payment_link(later, first.context["payment_link"])
    assert renewed.context["payment_link"]["url"] != first.context["payment_link"]["url"]


@pytest.mark.parametrize("answer, error", [
    ("https://pay.example.com/x", "not a PaymentLink"),
    (PaymentLink("javascript:alert(1)"), "not an http(s) URL"),
    (PaymentLink("https://pay.example.com/x", expires_at=NOW - timedelta(days=1)),
     "must be an aware time after"),
    (RuntimeError("payment provider down"), "RuntimeError: payment provider down"),
])
def test_a_bad_answer_is_a_recorded_failure_and_the_message_goes_without_a_link(answer, error):
    linked, failures = Dispatcher(plugin_manager(Minter(answer)), CONFIG).attach_payment_link(make_message())
    assert linked.context["payment_link"] is None
    (failure,) = failures
    assert failure.hook == "arrears_payment_link" and error in failure.error


def test_without_a_plugin_no_link_and_the_general_page_for_payable_accounts():
    dispatcher = Dispatcher(plugin_manager(), CONFIG)
    linked, failures = dispatcher.attach_payment_link(make_message())
    assert linked.context["payment_link"] is None and failures == []
    assert "Pay online: https://pay.example.com/A1" in dispatcher.render(linked).body   # creditor.payment_url
