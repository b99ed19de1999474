"""An event's own id is unique per account, whatever idempotency key it came with (issue 11
item 19): the store refuses a repeat, says when its content differs, and the database
itself enforces it (revision 0006), on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from arrears.engine.domain.model import Account, Event
from arrears.engine.store import SCHEMA_HEAD, Store, migrations
from arrears.engine.store.db import make_engine
from tests.store.storekit import T0

pytestmark = pytest.mark.also_postgresql

AT = datetime(2026, 11, 20, 10, tzinfo=timezone.utc)


def _payment(amount: str = "100.00", id: str | None = "pay-1") -> Event:
    return Event("payment", AT, amount=Decimal(amount), id=id)


def _payments(store, account_id: str = "A") -> list:
    return [e for e in store.get_account(account_id)[1] if e.type == "payment"]


def test_the_same_event_id_under_another_key_or_none_is_a_duplicate(store):
    store.upsert_accounts([Account("A", "GBP"), Account("B", "GBP")], now=T0)
    first = store.append_events([("A", _payment(), "psp-1")], now=T0)
    assert (first.stored, first.duplicates, first.differing) == (1, [], [])
    again = store.append_events([("A", _payment(), None), ("A", _payment(), "psp-2"), ("A", _payment(), "psp-1"),
                                 ("B", _payment(), "psp-1")], now=T0 + 1)     # ids are per account
    assert (again.stored, again.duplicates, again.differing) == (1, [0, 1, 2], [])
    assert len(_payments(store)) == 1 and len(_payments(store, "B")) == 1


def test_a_reused_id_with_other_content_is_flagged_and_not_stored(store):
    store.upsert_accounts([Account("A", "GBP")], now=T0)
    store.append_events([("A", _payment(), "psp-1")], now=T0)
    report = store.append_events([("A", _payment("50.00"), "psp-9"), ("A", _payment("100.00"), "psp-8")],
                                 now=T0 + 1)
    assert (report.stored, report.duplicates, report.differing) == (0, [0, 1], [0])
    assert [e.amount for e in _payments(store)] == [Decimal("100.00")]


def test_repeats_within_one_batch(store):
    store.upsert_accounts([Account("A", "GBP")], now=T0)
    report = store.append_events([("A", _payment(), "k#0"), ("A", _payment(), "k#1"),
                                  ("A", _payment("1.00"), "k#2"), ("A", _payment(id=None), "k#3")], now=T0)
    assert (report.stored, report.duplicates, report.differing) == (2, [1, 2], [2])


def test_the_database_refuses_a_second_row_with_the_same_event_id(store):
    store.upsert_accounts([Account("A", "GBP")], now=T0)
    store.append_events([("A", _payment(), "psp-1"), ("A", _payment(id=None), "psp-3")], now=T0)
    insert = ("INSERT INTO events (acct_no, type, at, amount_minor, event_id, event_key, recorded_at, audit_seq)"
              " VALUES (1, 'payment', 0, 10000, {id}, {key}, 0, 1)")
    with pytest.raises(IntegrityError):
        with store.engine.begin() as conn:      # past the store's own check: the index stops it
            conn.execute(text(insert.format(id="'pay-1'", key="'psp-2'")))
    with store.engine.begin() as conn:          # events without an id are not constrained
        conn.execute(text(insert.format(id="NULL", key="'psp-4'")))


def test_upgrading_a_database_that_already_holds_repeats(db_url):
    engine = make_engine(db_url)
    migrations.upgrade(engine, "0004")
    with engine.begin() as conn:               # what the bug left behind in a 0004 database
        conn.execute(text("INSERT INTO accounts (id, currency, debtor_type, tags, other_timezones, contact, "
                          "digest, created_at, updated_at, changed_at, revision, evaluated_revision) "
                          "VALUES ('A', 'GBP', 'consumer', '[]', '[]', '{}', 'd', 0, 0, 0, 1, 0)"))
        for key in ("psp-1", "psp-2"):
            conn.execute(text("INSERT INTO events (acct_no, type, at, amount_minor, event_id, event_key, "
                              f"recorded_at, audit_seq) VALUES (1, 'payment', 0, 10000, 'pay-1', '{key}', 0, 0)"))
    engine.dispose()
    with Store(db_url) as store:               # the upgrade succeeds; the old rows stay as recorded
        assert store.schema_revision() == SCHEMA_HEAD
        assert len(_payments(store)) == 2
        report = store.append_events([("A", _payment(), "psp-3"), ("A", _payment(id="pay-2"), None)], now=T0)
        assert (report.stored, report.duplicates) == (1, [0])
        with pytest.raises(IntegrityError):     # rows after the old repeats are covered by the index
            with store.engine.begin() as conn:
                conn.execute(text("INSERT INTO events (acct_no, type, at, event_id, recorded_at, audit_seq) "
                                  "VALUES (1, 'note', 0, 'pay-2', 0, 1)"))
