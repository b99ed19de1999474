"""The plugin guide's WhatsApp walk-through, run as written: the example package's channel
reached through a route from the policy's `sms` channel, a 429 with Retry-After through a real
outbox and tick, and the provider's status callbacks recorded as receipts (issue 15). Its own
channel kind, end to end: tests/plugins/test_plugin_channel_kinds.py."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest

from arrears.engine.tick.dispatch import Backoff
from arrears.engine.tick.receipts import record_receipt
from arrears.engine.tick.trial import TickTrial
from arrears.plugins.message import Receipt
from arrears.plugins.testing import RecordingServer, plugin_manager
from tests.plugins.pluginkit import import_whatsapp


@pytest.fixture
def whatsapp(monkeypatch):
    """The guide's channel, as the example package ships it (examples/arrears-whatsapp-channel)."""
    return import_whatsapp(monkeypatch)


STATUS = {"delivered": "delivered", "read": "read", "failed": "bounced", "undelivered": "bounced"}


def _timed(tick, *args):
    """(`tick(*args)`'s summary, the seconds it took): the channel's clock runs on during a tick."""
    started = time.monotonic()
    summary = tick(*args)
    return summary, time.monotonic() - started


def _trial(plugin, provider, **kwargs):
    return TickTrial(plugin_manager(plugin), {
        "channels": {"whatsapp": {"url": provider.url + "/v1/messages", "token": "t"}},
        "routes": {"sms": "whatsapp"}, "creditor": {"name": "Example Ltd"}}, **kwargs)


def test_a_rate_limit_waits_for_the_provider_then_receipts_are_recorded(whatsapp):
    with RecordingServer() as provider, _trial(whatsapp, provider) as trial:
        provider.reply(429, {"error": "rate limited"}, headers={"Retry-After": "120"})
        provider.reply(200, {"id": "wamid.1"})
        trial.add({"id": "A1", "contact": {"mobile": "+447700900123"}})
        summary, took = _timed(trial.tick)
        assert summary.retrying == 1
        [row] = trial.outbox()
        assert (row["channel"], row["status"], row["tries"]) == ("sms", "pending", 0)
        # 120 s after the channel's clock, which is the tick's time advanced by the run's whole
        # seconds so far (engine/tick/dispatch.py): as many seconds later as the tick took
        assert timedelta(seconds=120) <= row["next_attempt_at"] - trial.now <= timedelta(seconds=121 + took)
        assert trial.tick(trial.now + timedelta(seconds=119)).delivered == 0
        assert trial.tick(row["next_attempt_at"]).delivered == 1
        keys = {r.headers["Idempotency-Key"] for r in provider.requests}
        assert len(provider.requests) == 2 and keys == {"A1:friendly_reminder:1:2026-11-10:sms"}
        assert provider.requests[0].headers["Authorization"] == "Bearer t"
        assert trial.outbox()[0]["provider_id"] == "wamid.1"
        # the provider's status callbacks, as the guide's receiver records them
        for status in ("delivered", "read"):
            at = row["next_attempt_at"] + timedelta(seconds=5)
            assert record_receipt(trial.store, Receipt("wamid.1", STATUS[status], at=at)).status == "recorded"
        reports = [(e.type, e.channel, e.outcome) for e in trial.history() if e.type.startswith("contact")]
        assert reports == [("contact_attempt", "sms", "sent"), ("contact_outcome", "sms", "delivered"),
                           ("contact_outcome", "sms", "read")]


def test_any_number_of_429s_only_waits(whatsapp):
    with RecordingServer() as provider, _trial(whatsapp, provider, backoff=Backoff(max_tries=2)) as trial:
        trial.add({"id": "A1", "contact": {"mobile": "+447700900123"}})
        at = trial.now
        for _ in range(5):
            provider.reply(429, headers={"Retry-After": "30"})
            summary, took = _timed(trial.tick, at)
            assert summary.retrying == 1
            [row] = trial.outbox()
            assert row["tries"] == 0
            assert timedelta(seconds=30) <= row["next_attempt_at"] - at <= timedelta(seconds=31 + took)
            at = row["next_attempt_at"]
        assert trial.tick(at).delivered == 1
        assert [(r["channel"], r["status"], r["tries"]) for r in trial.outbox()] == [("sms", "sent", 1)]
        assert len(provider.requests) == 6
