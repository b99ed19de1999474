"""The `write_off` event: bad debt written off reduces what is owed like a credit note,
so a written-off balance is no longer chased; it is stored and read back like any event."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from arrears.engine.decisions.core import decide
from arrears.engine.domain.errors import InputError
from arrears.engine.domain.model import Account, Event

NOW = datetime(2026, 11, 22, 15, 0, tzinfo=timezone.utc)


def _account() -> Account:
    return Account.from_dict({
        "id": "W1", "currency": "GBP", "timezone": "Europe/London",
        "contact": {"email": "w@example.com", "address": "1 Street"},
        "invoices": [{"id": "I1", "amount": "900.00", "due_date": "2026-05-01"},
                     {"id": "I2", "amount": "100.00", "due_date": "2026-10-01"}]})


def _write_off(amount: str, **fields) -> Event:
    return Event.from_dict({"type": "write_off", "at": "2026-11-20T10:00:00Z", "amount": amount, **fields})


def test_a_written_off_balance_is_no_longer_chased(policy):
    before = decide(_account(), [], policy, NOW)
    assert before.action is not None and before.balance.amount == 1000       # 205 days late: chased
    after = decide(_account(), [_write_off("1000.00")], policy, NOW)
    assert after.balance.amount == 0 and after.action is None and after.days_past_due is None


def test_a_partial_write_off_pays_like_a_credit_note(policy):
    # Oldest first, like a credit note without an invoice: I1 is cleared, I2 (due 1 Oct) remains.
    off = decide(_account(), [_write_off("900.00")], policy, NOW)
    credit = decide(_account(), [Event.from_dict({"type": "credit_note", "at": "2026-11-20T10:00:00Z",
                                                  "amount": "900.00"})], policy, NOW)
    assert off.balance.amount == credit.balance.amount == 100
    assert off.days_past_due == credit.days_past_due == 52
    # Naming an invoice writes off that invoice.
    named = decide(_account(), [_write_off("100.00", invoice_id="I2")], policy, NOW)
    assert named.balance.amount == 900 and named.days_past_due == 205


def test_a_write_off_needs_a_positive_amount():
    with pytest.raises(InputError, match=r"event\.amount: is required for a write_off event"):
        Event.from_dict({"type": "write_off", "at": "2026-11-20T10:00:00Z"})
    with pytest.raises(InputError, match="must be positive"):
        _write_off("0")


def test_stored_and_loaded_by_the_tick_path(tmp_path, policy):
    from arrears.engine.store import Store
    with Store(f"sqlite:///{tmp_path / 'w.db'}") as store:
        store.upsert_accounts([_account()], now=NOW)
        store.append_events([("W1", _write_off("1000.00", invoice_id="I1"), "wo-1")], now=NOW)
        _, history = store.get_account("W1")
        assert [(e.type, str(e.amount), e.invoice_id) for e in history] == [("write_off", "1000.00", "I1")]
        # The column-wise loader the tick uses sees it too: nothing left to chase on I1.
        from arrears.engine.decisions.core import decide_batch
        db = decide_batch(store.load_batch([1]), policy, NOW)
        assert int(db.facts.total_balance[0]) == 0       # 900 to I1 (100 over goes to I2 from the pool)
