"""Bulk ingest: sizes, idempotent events, all-or-nothing batches, change tracking."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text

from arrears.engine.domain.errors import InputError
from arrears.engine.domain.model import Account, Event
from arrears.engine.store import Store
from arrears.engine.store.schema import accounts
from tests.store.storekit import T0

pytestmark = pytest.mark.also_postgresql

AT = datetime(2026, 10, 1, 12, tzinfo=timezone.utc)


def _note(minutes: int = 0, **fields) -> Event:
    return Event("note", AT + timedelta(minutes=minutes), **fields)


def _row(store, account_id):
    with store.engine.connect() as conn:
        return conn.execute(select(accounts).where(accounts.c.id == account_id)).one()


def test_bulk_sizes_in_one_call_each(store):
    accs = [Account(f"A{i:05d}", "EUR") for i in range(5000)]
    assert store.upsert_accounts(accs, now=T0).inserted == 5000
    pairs = [(f"A{i % 5000:05d}", _note(i), f"k{i}" if i % 3 == 0 else None) for i in range(30_000)]
    report = store.append_events(pairs, now=T0)
    assert report.stored == 30_000 and report.duplicates == []
    counts = store.counts()
    assert (counts["accounts"], counts["events"], counts["audit"]) == (5000, 30_000, 2)
    assert len(store.get_account("A00007")[1]) == 6


def test_event_keys_make_appends_idempotent(store):
    store.upsert_accounts([Account("A", "EUR"), Account("B", "EUR")], now=T0)
    batch = [("A", _note(1), "k1"), ("A", _note(2), "k2"), ("B", _note(3), "k1"),  # keys are per account
             ("A", _note(4), "k1"),                                               # repeated in the batch
             ("A", _note(5, id="ev-9"), None)]                                    # the event id is the key
    first = store.append_events(batch, now=T0)
    assert (first.stored, first.duplicates) == (4, [3])
    again = store.append_events(batch + [("A", _note(6), None)], now=T0 + 1)
    assert again.stored == 1 and again.duplicates == [0, 1, 2, 3, 4]
    assert len(store.get_account("A")[1]) == 4


def test_all_duplicates_write_nothing(store):
    store.upsert_accounts([Account("A", "EUR")], now=T0)
    store.append_events([("A", _note(), "k")], now=T0)
    audit_before = store.counts()["audit"]
    report = store.append_events([("A", _note(), "k")], now=T0 + 5)
    assert (report.stored, report.duplicates, report.audit_seq) == (0, [0], None)
    assert store.counts()["audit"] == audit_before
    assert _row(store, "A").changed_at == T0


def test_unknown_account_mid_batch_stores_nothing(store):
    store.upsert_accounts([Account("A", "EUR")], now=T0)
    before = store.counts()
    with pytest.raises(InputError) as exc:
        store.append_events([("A", _note(1), None), ("GHOST", _note(2), None), ("A", _note(3), None)])
    assert "GHOST" in str(exc.value) and exc.value.where == "events[1].account_id"
    assert store.counts() == before


def test_bad_amount_mid_batch_stores_nothing(store):
    store.upsert_accounts([Account("A", "JPY")], now=T0)
    before = store.counts()
    pay = Event.from_dict({"type": "payment", "at": "2026-10-01T00:00:00Z", "amount": "10.5"})
    with pytest.raises(InputError, match="more decimal places than JPY"):
        store.append_events([("A", _note(1), None), ("A", pay, None)], now=T0)
    assert store.counts() == before


def test_a_failing_transaction_rolls_back_every_write(store):
    with pytest.raises(RuntimeError):
        with store.transaction(now=T0) as w:
            w.upsert_accounts([Account("A", "EUR")])
            w.append_events([("A", _note(), "k")])
            w.audit("test.step", "A", {"n": 1})
            raise RuntimeError("crash half-way")
    assert store.counts() == {"accounts": 0, "invoices": 0, "events": 0, "decisions": 0, "outbox": 0,
                              "audit": 0}
    assert store.verify_audit().ok


@pytest.mark.sqlite_only     # a SQLite trigger (test_store_postgres has PostgreSQL's)
def test_database_error_mid_batch_rolls_back(store):
    store.upsert_accounts([Account("A", "EUR")], now=T0)
    before = store.counts()
    with store.engine.begin() as conn:   # a trigger standing in for any database-side failure
        conn.execute(text("CREATE TRIGGER boom BEFORE INSERT ON events WHEN NEW.type = 'hold' "
                          "BEGIN SELECT RAISE(ABORT, 'boom'); END"))
    with pytest.raises(Exception, match="boom"):
        store.append_events([("A", _note(1), None), ("A", Event("hold", AT), None)], now=T0)
    assert store.counts() == before
    assert store.verify_audit().ok


def test_changes_mark_the_account_due_and_bump_its_revision(store):
    store.upsert_accounts([Account("A", "EUR"), Account("B", "EUR")], now=T0)
    page = store.due_accounts(T0, 10)
    assert len(page) == 2
    store.mark_evaluated(page.acct_nos, page.revisions, [T0 + 3600, None], evaluated_at=T0)
    a = _row(store, "A")
    assert (a.next_evaluation_at, a.last_evaluated_at, a.evaluated_revision) == (T0 + 3600, T0, 1)
    store.append_events([("A", _note(), None)], now=T0 + 60)
    a = _row(store, "A")
    assert (a.changed_at, a.revision, a.next_evaluation_at) == (T0 + 60, 2, None)
    assert a.changed_at > a.last_evaluated_at
    assert _row(store, "B").revision == 1


def test_append_only_api():
    # Events and audit entries can be added, never changed or removed, through the store.
    names = [n for n in dir(Store) if not n.startswith("_")]
    assert not [n for n in names if any(w in n for w in ("delete", "remove", "update_event", "edit"))]


def test_two_writers_on_one_file_queue_instead_of_failing(db_url):
    Store(db_url).upsert_accounts([Account("A", "EUR")], now=T0)
    errors = []

    def writer(tag):
        try:
            with Store(db_url) as s:
                for i in range(20):
                    s.append_events([("A", _note(i), f"{tag}-{i}")], now=T0)
        except Exception as exc:   # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(t,)) for t in ("x", "y")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with Store(db_url) as s:
        assert s.counts()["events"] == 40 and s.verify_audit().ok
