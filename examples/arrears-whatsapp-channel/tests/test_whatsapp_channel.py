"""The example's own tests: the kind as the engine sees it, the transport against a real HTTP
server, its opt-out wording."""
from __future__ import annotations

import arrears_whatsapp_channel as whatsapp

from arrears.engine.domain.kinds import KINDS, label
from arrears.plugins.dispatch import Dispatcher
from arrears.plugins.message import Recipient
from arrears.plugins.testing import RecordingServer, make_message, plugin_manager


def _message(**overrides):
    """A WhatsApp message that must carry an opt-out line (as a US profile asks of texts)."""
    return make_message(channel="whatsapp", channel_kind="whatsapp", content=("opt_out",),
                        recipient=Recipient(mobile="+447700900123"), **overrides)


def test_the_kind_is_registered_with_its_reporting_name():
    plugin_manager(whatsapp)
    kind = KINDS["whatsapp"]
    assert (label("whatsapp"), kind.guardrail_class, kind.reach, kind.consent) == \
           ("WhatsApp", "text_message", "mobile", True)
    assert kind.plugin


def test_a_message_is_posted_with_its_own_template_and_opt_out_wording():
    pm = plugin_manager(whatsapp)
    with RecordingServer() as server:
        server.reply(200, {"id": "wamid.7"})
        dispatcher = Dispatcher(pm, {"channels": {"whatsapp": {"url": server.url, "token": "t"}},
                                     "creditor": {"name": "Example Ltd"}})
        result = dispatcher.deliver(_message())
        assert result.ok and result.provider_id == "wamid.7", result.detail
        sent = server.requests[0].json()
        assert sent["to"] == "+447700900123"
        assert sent["text"]["body"].startswith("Hello from Example Ltd")
        assert sent["text"]["body"].endswith("Reply STOP to stop WhatsApp messages from Example Ltd.")
        assert server.requests[0].headers["Authorization"] == "Bearer t"


def test_no_mobile_is_a_permanent_failure():
    pm = plugin_manager(whatsapp)
    dispatcher = Dispatcher(pm, {"channels": {"whatsapp": {"url": "http://127.0.0.1:9/", "token": "t"}}})
    result = dispatcher.deliver(make_message(channel="whatsapp", channel_kind="whatsapp", recipient=Recipient()))
    assert result.status == "failed_permanent" and "mobile" in result.detail
