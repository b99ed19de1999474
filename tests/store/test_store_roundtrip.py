"""Accounts and events come back from the store exactly as they went in."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from arrears.engine.domain.errors import InputError
from arrears.engine.domain.model import Account, Contact, Event
from arrears.engine.store import Store, UnknownAccount
from arrears.engine.store.schema import accounts
from tests.store.storekit import T0, rich_account, rich_history

pytestmark = pytest.mark.also_postgresql


def _non_default(obj) -> list[str]:
    """Fields of a dataclass instance still at their default value."""
    out = []
    for f in dataclasses.fields(obj):
        default = f.default if f.default is not dataclasses.MISSING else (
            f.default_factory() if f.default_factory is not dataclasses.MISSING else dataclasses.MISSING)
        if getattr(obj, f.name) == default:
            out.append(f.name)
    return out


def test_samples_cover_every_model_field():
    # When a field is added to the model, this fails until the store (codec, schema,
    # migration, load_batch) and the rich samples learn it.
    acc = rich_account()
    assert _non_default(acc) == []
    assert _non_default(acc.contact) == []
    plan = rich_history()[2]
    # The two details belong to one event type each: the represented and contact_preference samples.
    assert _non_default(plan) == ["representative", "wishes"]
    common = ["id", "amount", "invoice_id", "channel", "stage", "outcome"]
    assert [_non_default(e) for e in rich_history()[4:]] == [
        [*common, "until", "instalments", "note", "wishes"], [*common, "instalments", "note", "representative"]]
    assert _non_default(rich_history()[5].wishes) == []


def test_rich_account_and_history_round_trip(store):
    acc, history = rich_account(), rich_history()
    store.upsert_accounts([acc], now=T0)
    store.append_events([(acc.id, e, None) for e in history], now=T0)
    got, events = store.get_account(acc.id)
    assert got == dataclasses.replace(acc, invoices=tuple(sorted(acc.invoices, key=lambda i: (i.due_date, i.id))))
    assert set(got.invoices) == set(acc.invoices)
    assert events == sorted(history, key=lambda e: e.at)


def test_amounts_come_back_with_the_currency_decimals(store):
    acc = Account.from_dict({"id": "A", "currency": "EUR",
                             "invoices": [{"id": "I", "amount": "12.5", "due_date": "2026-01-01"}]})
    yen = Account.from_dict({"id": "Y", "currency": "JPY",
                             "invoices": [{"id": "I", "amount": "1200", "due_date": "2026-01-01"}]})
    store.upsert_accounts([acc, yen], now=T0)
    got, _ = store.get_account("A")
    assert str(got.invoices[0].amount) == "12.50"
    assert str(store.get_account("Y")[0].invoices[0].amount) == "1200"


def test_times_are_aware_utc_whole_seconds(store):
    store.upsert_accounts([Account("A", "EUR")], now=T0)
    ev = Event.from_dict({"type": "note", "at": "2026-03-29T01:30:00.750+01:00"})
    store.append_events([("A", ev, None)], now=T0)
    (_, [back]) = store.get_account("A")
    assert back.at == datetime(2026, 3, 29, 0, 30, tzinfo=timezone.utc)
    assert back.at.tzinfo is timezone.utc


@pytest.mark.parametrize("amount, currency", [("12.345", "EUR"), ("1.5", "JPY"), ("0.0001", "KWD"),
                                              ("1" + "0" * 30, "EUR")])
def test_amounts_the_store_cannot_keep_exactly_are_refused(store, amount, currency):
    acc = Account.from_dict({"id": "A", "currency": currency,
                             "invoices": [{"id": "I", "amount": amount, "due_date": "2026-01-01"}]})
    with pytest.raises(InputError) as exc:
        store.upsert_accounts([Account("OK", "EUR"), acc], now=T0)
    assert exc.value.where == "accounts[1].invoices[0].amount"
    assert store.counts()["accounts"] == 0


def test_unknown_account(store):
    with pytest.raises(UnknownAccount) as exc:
        store.get_account("nope")
    assert "nope" in str(exc.value) and isinstance(exc.value, KeyError)


def test_upsert_replaces_invoices_and_skips_identical_accounts(store):
    first = Account.from_dict({"id": "A", "currency": "EUR", "contact": {"email": "a@example.com"},
                               "invoices": [{"id": "I1", "amount": "10", "due_date": "2026-01-01"},
                                            {"id": "I2", "amount": "20", "due_date": "2026-02-01"}]})
    report = store.upsert_accounts([first], now=T0)
    assert (report.inserted, report.updated, report.invoices) == (1, 0, 2)
    assert store.upsert_accounts([first], now=T0 + 10).audit_seq is None     # no-op: no audit entry
    second = dataclasses.replace(first, invoices=first.invoices[1:], contact=Contact(phone="+4411"))
    report = store.upsert_accounts([second], now=T0 + 20)
    assert (report.inserted, report.updated, report.unchanged, report.invoices) == (0, 1, 0, 1)
    got, _ = store.get_account("A")
    assert got == second
    with store.engine.connect() as conn:
        row = conn.execute(select(accounts).where(accounts.c.id == "A")).one()
    assert (row.created_at, row.updated_at, row.changed_at, row.revision) == (T0, T0 + 20, T0 + 20, 2)
    assert row.next_evaluation_at is None


def test_last_occurrence_wins_within_a_batch(store):
    a1, a2 = Account("A", "EUR", language="en"), Account("A", "EUR", language="fr")
    assert store.upsert_accounts([a1, a2], now=T0).inserted == 1
    assert store.get_account("A")[0].language == "fr"


def test_store_reopens_existing_file(db_url):
    with Store(db_url) as s:
        s.upsert_accounts([rich_account()], now=T0)
    with Store(db_url) as s:
        assert s.get_account("R-1")[0] == s.get_account("R-1")[0]
        assert s.counts()["accounts"] == 1


def test_decimal_inputs_are_compared_by_value(store):
    acc = Account("A", "EUR", invoices=())
    store.upsert_accounts([acc], now=T0)
    ev = Event("payment", datetime(2026, 1, 1, tzinfo=timezone.utc), amount=Decimal("7.10"))
    store.append_events([("A", ev, None)], now=T0)
    assert store.get_account("A")[1][0].amount == Decimal("7.1")
