"""Act-once for payment links: the tick mints one link per outbox message and a retry of that
message shows the same link, without asking the plugin again."""
from __future__ import annotations

import json
import uuid

import pytest

from arrears.engine.domain.clock import as_epoch
from arrears.engine.tick import Backoff, dispatch_due, run_tick
from arrears.plugins import hookimpl
from arrears.plugins.dispatch import Dispatcher
from arrears.plugins.message import PaymentLink
from arrears.plugins.testing import plugin_manager
from tests.tick.tickkit import MONDAY, account, dispatcher_config, load, rows

pytestmark = pytest.mark.also_postgresql


class Minter:
    """A payment-link plugin that mints a new random link on every call."""

    def __init__(self):
        self.minted = []

    @hookimpl
    def arrears_payment_link(self, message, amount, expires_at):
        self.minted.append(f"https://pay.example.com/l/{uuid.uuid4().hex}")
        return PaymentLink(self.minted[-1])


def test_a_retried_message_carries_the_link_minted_for_its_first_try(store, policy, server):
    minter = Minter()
    dispatcher = Dispatcher(plugin_manager(minter), dispatcher_config(server.url))
    load(store, [account("A1")])
    assert run_tick(store, policy, MONDAY).actions_queued == 1       # queued, not yet sent
    backoff = Backoff(base=60, factor=2, cap=3600, max_tries=3)
    server.reply(503, b"busy")
    assert dispatch_due(store, policy, dispatcher, MONDAY, backoff=backoff).retrying == 1
    (payload,) = [json.loads(p) for (p,) in rows(store, "SELECT payload FROM outbox")]
    assert payload["payment_link"]["url"] == minter.minted[0]       # kept with the message
    (nxt,) = [n for (n,) in rows(store, "SELECT next_attempt_at FROM outbox")]
    later = MONDAY.fromtimestamp(nxt, MONDAY.tzinfo)
    assert as_epoch(later) == nxt
    assert dispatch_due(store, policy, dispatcher, later, backoff=backoff).delivered == 1
    assert len(minter.minted) == 1                                   # not minted again
    bodies = [r.json()["message"] for r in server.requests]
    assert [b["context"]["payment_link"]["url"] for b in bodies] == [minter.minted[0]] * 2
    assert all(minter.minted[0] in b["body"] for b in bodies)
    assert rows(store, "SELECT status FROM outbox") == [("sent",)]
