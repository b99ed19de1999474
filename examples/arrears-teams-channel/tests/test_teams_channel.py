"""Tests for the Teams channel and the strategic-customer fact, using the host's test
helpers, a real local HTTP server and the real engine."""
from __future__ import annotations

import hashlib
import hmac
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

import arrears_teams_channel
import pytest
from arrears_teams_channel import TeamsChannel, card, strategic

from arrears.engine.decisions.core import decide_batch
from arrears.engine.domain.batch import Batch
from arrears.engine.domain.model import Account
from arrears.engine.policy.load import load_policy
from arrears.plugins.dispatch import Dispatcher
from arrears.plugins.errors import ChannelConfigError
from arrears.plugins.facts import plugin_facts
from arrears.plugins.registry import collect_channels
from arrears.plugins.testing import RecordingServer, make_message, plugin_manager

POLICY = Path(__file__).resolve().parents[1] / "policies" / "strategic.yaml"
NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)


def test_registers_the_teams_channel():
    pm = plugin_manager(arrears_teams_channel)
    entry = collect_channels(pm)["teams"]
    assert isinstance(entry.channel, TeamsChannel)


def test_config_errors_are_reported_together():
    with pytest.raises(ChannelConfigError) as err:
        TeamsChannel().configure({"timeout": -1, "colour": "red"})
    text = str(err.value)
    assert "webhook_url" in text and "timeout" in text and "colour" in text


def test_posts_a_card_for_a_routed_review_task():
    pm = plugin_manager(arrears_teams_channel)
    with RecordingServer() as server:
        dispatcher = Dispatcher(pm, {"channels": {"teams": {"webhook_url": server.url + "/hook"}},
                                     "routes": {"review": "teams"}})
        message = make_message(channel="review", channel_kind="task", template="write_off_review",
                               stage="write_off_review", action_type="write_off")
        result = dispatcher.deliver(message)
        assert result.ok, result.detail
        posted = server.requests[0].json()
    content = posted["attachments"][0]["content"]
    assert content["type"] == "AdaptiveCard"
    # The plugin's own template (write_off_review.en.teams.j2) was used.
    assert content["body"][0]["text"].startswith("Write-off review: A1")
    assert server.requests[0].headers["Idempotency-Key"] == "A1:write_off_review:1:review"


def test_server_errors_are_retryable():
    channel = TeamsChannel()
    with RecordingServer() as server:
        channel.configure({"webhook_url": server.url})
        server.reply(502)
        result = channel.deliver(make_message(subject="s", body="b"))
    assert result.status == "failed_retryable"
    assert card(make_message(body="b"))["attachments"][0]["content"]["body"][1]["text"] == "b"


def _batch():
    """Three accounts 21 days late; A1 and A2 belong to debtors D-1 and D-2, A3 has no debtor id."""
    def account(account_id, debtor_id=None):
        return Account.from_dict({"id": account_id, "currency": "GBP", "debtor_id": debtor_id,
                                  "contact": {"email": "ap@example.com"},
                                  "invoices": [{"id": "I1", "amount": "900.00", "due_date": "2026-11-01"}]})
    return Batch.from_objects([account("A1", "D-1"), account("A2", "D-2"), account("A3")], [[], [], []])


def test_the_strategic_fact_drives_the_example_policy():
    facts = plugin_facts(plugin_manager(arrears_teams_channel))
    assert facts[strategic.NAME].kind == "bool"
    policy = load_policy(POLICY, facts=facts)
    assert list(policy.plugin_facts) == [strategic.NAME]
    with tempfile.TemporaryDirectory() as tmp:
        listing = Path(tmp) / "strategic.txt"
        listing.write_text("# strategic customers\nD-2\nA3   # an account without a debtor id\n")
        with mock.patch.dict(os.environ, {strategic.ENV: str(listing)}):
            db = decide_batch(_batch(), policy, NOW)
            stages = [d.action.stage for d in db.decisions()]
    assert db.plugin_failures == []
    assert stages == ["firm_reminder", "strategic_review", "strategic_review"]


def test_without_the_list_the_fact_is_unknown_and_the_policy_takes_the_gentle_path():
    policy = load_policy(POLICY, facts=plugin_facts(plugin_manager(arrears_teams_channel)))
    with mock.patch.dict(os.environ, clear=False):
        os.environ.pop(strategic.ENV, None)
        db = decide_batch(_batch(), policy, NOW)
        decisions = db.decisions()
    (failure,) = db.plugin_failures
    assert failure["fact"] == strategic.NAME and "LookupError" in failure["error"]
    assert [d.action.stage for d in decisions] == ["strategic_review"] * 3


def test_mints_a_signed_payment_link_that_the_message_shows():
    from arrears_teams_channel import paylink

    env = {paylink.URL_ENV: "https://pay.example.com/p", paylink.SECRET_ENV: "s3cret"}
    dispatcher = Dispatcher(plugin_manager(arrears_teams_channel), {"creditor": {"name": "Example Ltd"}})
    with mock.patch.dict(os.environ, env):
        message, failures = dispatcher.attach_payment_link(
            make_message(metadata={"evaluated_at": "2026-11-22T15:00:00Z"}))
    link = message.context["payment_link"]
    assert failures == [] and link["expires_at"] == "2026-12-06T15:00:00Z"
    query, sig = link["url"].split("?", 1)[1].rsplit("&sig=", 1)
    assert query == "account=A1&amount=1000.00&currency=EUR&expires=2026-12-06T15%3A00%3A00Z"
    assert sig == hmac.new(b"s3cret", query.encode(), hashlib.sha256).hexdigest()
    assert link["url"] in dispatcher.render(message).body


def test_mints_no_link_when_the_payment_page_is_not_set_up():
    from arrears_teams_channel import paylink

    dispatcher = Dispatcher(plugin_manager(arrears_teams_channel), {})
    with mock.patch.dict(os.environ, {paylink.URL_ENV: "", paylink.SECRET_ENV: ""}):
        message, failures = dispatcher.attach_payment_link(make_message())
    assert message.context["payment_link"] is None and failures == []
