"""Delivery receipts (issue 15): a provider's later word on a delivered message is found by its
provider id and appended to the history once, as a report that is not another contact."""
from __future__ import annotations

from datetime import timedelta

import pytest

from arrears.engine.tick import run_tick
from arrears.engine.tick.receipts import record_receipt
from arrears.plugins.message import Receipt
from tests.tick.tickkit import MONDAY, account, load, rows


def _reports(store):
    _, history = store.get_account("A1")
    return [(e.channel, e.stage, e.outcome) for e in history if e.type == "contact_outcome"]


def test_receipts_are_recorded_once_on_the_contact_they_report(store, policy, server, dispatcher):
    load(store, [account("A1")])
    server.reply(200, {"id": "prov-77"})
    assert run_tick(store, policy, MONDAY, dispatcher=dispatcher).delivered == 1
    assert rows(store, "SELECT provider_id FROM outbox") == [("prov-77",)]
    later = MONDAY + timedelta(minutes=3)
    done = record_receipt(store, Receipt("prov-77", "delivered", at=later))
    assert (done.status, done.outbox_id, done.account_id) == ("recorded", 1, "A1")
    assert record_receipt(store, Receipt("prov-77", "delivered", at=later)).status == "duplicate"
    read = record_receipt(store, Receipt("prov-77", "read", at=later + timedelta(hours=1)))
    assert read.status == "recorded"
    assert _reports(store) == [("email", "friendly_reminder", "delivered"),
                               ("email", "friendly_reminder", "read")]
    sql = "SELECT event_key FROM events WHERE type = 'contact_outcome' ORDER BY seq"
    keys = [k for (k,) in rows(store, sql)]
    assert keys == ["receipt:1:delivered", "receipt:1:read"]
    assert len(rows(store, "SELECT seq FROM audit WHERE kind = 'delivery.receipt'")) == 2
    # a receipt is not another contact: the next tick does not see an extra attempt
    summary = run_tick(store, policy, MONDAY + timedelta(hours=2), dispatcher=dispatcher)
    assert summary.delivered == 0


def test_a_bounce_is_the_returned_outcome_and_unknown_ids_are_said(store, policy, server, dispatcher):
    load(store, [account("A1")])
    server.reply(200, {"id": "prov-9"})
    run_tick(store, policy, MONDAY, dispatcher=dispatcher)
    assert record_receipt(store, Receipt("prov-9", "bounced", at=MONDAY, detail="550 user unknown")).status \
        == "recorded"
    assert _reports(store) == [("email", "friendly_reminder", "returned")]
    unknown = record_receipt(store, Receipt("nope", "delivered", at=MONDAY))
    assert unknown.status == "unknown" and "nope" in unknown.reason
    with pytest.raises(ValueError, match="receipt status must be one of"):
        Receipt("prov-9", "opened", at=MONDAY)
