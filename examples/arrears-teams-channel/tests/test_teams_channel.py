"""Tests for the Teams channel, using the host's test helpers and a real local HTTP server."""
from __future__ import annotations

import arrears_teams_channel
import pytest
from arrears_teams_channel import TeamsChannel, card

from plugins.dispatch import Dispatcher
from plugins.errors import ChannelConfigError
from plugins.registry import collect_channels
from plugins.testing import RecordingServer, make_message, plugin_manager


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
    assert server.requests[0].headers["Idempotency-Key"] == "A1:write_off_review:1"


def test_server_errors_are_retryable():
    channel = TeamsChannel()
    with RecordingServer() as server:
        channel.configure({"webhook_url": server.url})
        server.reply(502)
        result = channel.deliver(make_message(subject="s", body="b"))
    assert result.status == "failed_retryable"
    assert card(make_message(body="b"))["attachments"][0]["content"]["body"][1]["text"] == "b"
