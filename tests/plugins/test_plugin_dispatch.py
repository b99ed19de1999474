"""The host path: decision -> message -> render -> deliver -> observers, with real channels."""
from __future__ import annotations

import pytest

from arrears.engine.domain.model import Event
from arrears.plugins import hookimpl
from arrears.plugins.channels import Channel
from arrears.plugins.dispatch import Dispatcher
from arrears.plugins.errors import ChannelConfigError, PluginError
from arrears.plugins.message import DeliveryResult, Message, contact_event
from arrears.plugins.testing import FIXED_NOW, make_message, plugin_manager


class Recorder(Channel):
    """A channel that records what it is given (kind chosen per test)."""

    def __init__(self, kind="email", result=None):
        super().__init__()
        self.kind, self.name, self.sent = kind, f"recording {kind}", []
        self.result = result or DeliveryResult.sent("rec-1")

    def deliver(self, message):
        self.sent.append(message)
        return self.result


def test_compose_from_a_real_decision(pm, us_decision):
    account, decision = us_decision
    message = Dispatcher(pm, {"creditor": {"name": "Acme Inc"}}).compose(decision, account)
    action = decision.action
    assert message.idempotency_key == f"A1:{action.stage}:{action.attempt}:{action.channel}"
    assert message.channel_kind == decision.action.channel_kind
    assert set(message.content) == set(decision.action.content)
    assert message.recipient.email == "debtor@example.com"
    assert message.context["creditor"]["name"] == "Acme Inc"
    assert message.context["balance"] == decision.balance.to_json()
    assert message.context["today"] == "2026-11-22"       # New York date of the decision
    assert message.metadata["priority"] == decision.priority.score
    assert Message.from_dict(message.to_dict()) == message          # survives the outbox


def test_real_decision_is_rendered_and_emailed_with_the_required_content(pm, us_decision, smtp):
    account, decision = us_decision
    mailbox, port = smtp
    config = {"creditor": {"name": "Acme Inc"},
              "channels": {"email": {"host": "127.0.0.1", "port": port, "from_address": "ar@acme.test"}}}
    dispatcher = Dispatcher(pm, config)
    rendered, result = dispatcher.deliver_rendered(dispatcher.compose(decision, account))
    assert result.ok, result.detail
    body = mailbox.messages[0][1].get_content()
    assert "reply to this email with the word STOP" in body
    assert "VALIDATION NOTICE" in body and "30 days" in body
    assert mailbox.messages[0][1]["List-Unsubscribe"]
    event = Event.from_dict(contact_event(rendered, result, FIXED_NOW))
    assert (event.type, event.channel, event.outcome, event.id) == (
        "contact_attempt", "email", "sent", rendered.idempotency_key)


def test_compose_refuses_a_decision_without_action(pm, us_decision):
    import dataclasses
    account, decision = us_decision
    with pytest.raises(ValueError, match="no action"):
        Dispatcher(pm).compose(dataclasses.replace(decision, action=None), account)


def test_unconfigured_and_unknown_kinds_are_retryable(pm):
    dispatcher = Dispatcher(pm, {})
    result = dispatcher.deliver(make_message())
    assert result.status == "failed_retryable" and "add a channels.email section" in result.detail
    unknown = dispatcher.deliver(make_message(channel_kind="pigeon"))
    assert unknown.status == "failed_retryable" and "no installed plugin" in unknown.detail


def test_config_problems_of_all_channels_are_raised_together(pm, tmp_path):
    with pytest.raises(ChannelConfigError) as err:
        Dispatcher(pm, {"channels": {"email": {}, "sms": {"url": "nope"}, "fax": {},
                                     "letter": {"spool_dir": str(tmp_path)}}})
    text = "\n".join(err.value.problems)
    assert "channels.email: host is required" in text
    assert "channels.sms: url must be an http://" in text
    assert "channels.fax: no plugin provides this channel kind" in text
    assert not any(p.startswith("channels.letter") for p in err.value.problems)


def test_template_error_is_a_permanent_failure(pm, tmp_path):
    dispatcher = Dispatcher(pm, {"channels": {"letter": {"spool_dir": str(tmp_path)}}})
    result = dispatcher.deliver(make_message(channel_kind="letter", template="missing_template"))
    assert result.status == "failed_permanent" and "no template found" in result.detail


def test_arrears_deliver_can_take_over_or_pass():
    channel = Recorder()
    seen = []

    class Plugin:
        @hookimpl
        def arrears_channels(self):
            return [channel]

        @hookimpl
        def arrears_deliver(self, message, channel):
            seen.append((message.idempotency_key, channel.kind))
            if message.account_id == "DRY":
                return DeliveryResult.sent("dry-run", detail="not sent: dry run")
            return None

    dispatcher = Dispatcher(plugin_manager(Plugin()), {"channels": {"email": {}}})
    assert dispatcher.deliver(make_message(account_id="DRY")).provider_id == "dry-run"
    assert channel.sent == []
    assert dispatcher.deliver(make_message()).provider_id == "rec-1"
    assert len(channel.sent) == 1 and channel.sent[0].rendered
    assert seen == [("DRY:friendly_reminder:1:email", "email"), ("A1:friendly_reminder:1:email", "email")]


def test_a_channel_that_raises_or_returns_junk_does_not_crash_the_host():
    class Raises(Recorder):
        def deliver(self, message):
            raise RuntimeError("boom")

    class Junk(Recorder):
        def deliver(self, message):
            return "ok"

    class Plugin:
        @hookimpl
        def arrears_channels(self):
            return [Raises("email"), Junk("sms")]

    dispatcher = Dispatcher(plugin_manager(Plugin()), {"channels": {"email": {}, "sms": {}}})
    raised = dispatcher.deliver(make_message())
    assert raised.status == "failed_retryable" and "RuntimeError: boom" in raised.detail
    junk = dispatcher.deliver(make_message(channel_kind="sms"))
    assert junk.status == "failed_retryable" and "not a DeliveryResult" in junk.detail


def test_observers_are_isolated_and_failures_reported(us_decision):
    _, decision = us_decision
    calls = []

    class Good:
        @hookimpl
        def arrears_decision(self, decision):
            calls.append(("decision", decision.account_id))

        @hookimpl
        def arrears_delivery(self, message, result):
            calls.append(("delivery", message.idempotency_key, result.status))

    class Bad:
        @hookimpl
        def arrears_decision(self, decision):
            raise ConnectionError("CRM down")

        @hookimpl
        def arrears_delivery(self, message, result):
            raise ConnectionError("CRM down")

    bad = Bad()
    pm = plugin_manager(Good(), bad)
    dispatcher = Dispatcher(pm)
    failures = dispatcher.notify_decision(decision)
    assert calls == [("decision", "A1")]            # Bad ran first (registered last), Good still ran
    assert [(f.hook, f.error) for f in failures] == [("arrears_decision", "ConnectionError: CRM down")]
    failures = dispatcher.notify_delivery(make_message(), DeliveryResult.retryable("x"))
    assert calls[-1] == ("delivery", "A1:friendly_reminder:1:email", "failed_retryable")
    assert failures[0].to_dict() == {"plugin": pm.get_name(bad), "hook": "arrears_delivery",
                                     "error": "ConnectionError: CRM down"}


def test_arrears_config_receives_the_whole_config():
    received = []

    class Plugin:
        @hookimpl
        def arrears_config(self, config):
            received.append(config)

    Dispatcher(plugin_manager(Plugin()), {"creditor": {"name": "X"}, "crm": {"url": "u"}})
    assert received == [{"creditor": {"name": "X"}, "crm": {"url": "u"}}]


def test_start_up_errors_name_their_cause():
    class Plugin:
        @hookimpl
        def arrears_config(self, config):
            raise KeyError("crm")

    with pytest.raises(PluginError, match="arrears_config raised KeyError"):
        Dispatcher(plugin_manager(Plugin()))
    with pytest.raises(PluginError, match="'Mars/Base' is not an IANA time zone"):
        Dispatcher(plugin_manager(), {"default_timezone": "Mars/Base"})


def test_routes_send_a_policy_channel_through_another_kind():
    teams = Recorder("teams")

    class Plugin:
        @hookimpl
        def arrears_channels(self):
            return [teams]

    pm = plugin_manager(Plugin())
    dispatcher = Dispatcher(pm, {"channels": {"teams": {}}, "routes": {"review": "teams"}})
    result = dispatcher.deliver(make_message(channel="review", channel_kind="task",
                                             template="write_off_review"))
    assert result.ok and teams.sent[0].subject.startswith("Write-off review")
    with pytest.raises(ChannelConfigError, match="routes.review: no configured channel of kind 'fax'"):
        Dispatcher(pm, {"channels": {"teams": {}}, "routes": {"review": "fax"}})


def test_a_crashing_arrears_channels_hook_is_named():
    class Plugin:
        @hookimpl
        def arrears_channels(self):
            raise ImportError("missing SDK")

    with pytest.raises(PluginError, match="arrears_channels raised ImportError: missing SDK"):
        Dispatcher(plugin_manager(Plugin()))


def test_failed_attempt_event_has_no_id():
    event = contact_event(make_message(), DeliveryResult.permanent("bounced"), FIXED_NOW)
    assert event["outcome"] == "failed" and "id" not in event
