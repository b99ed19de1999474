"""The store's failures reach callers as `StoreError`s that say what failed, never as
SQLAlchemy's or the driver's exceptions (the original is kept as `cause`)."""
from __future__ import annotations

import pickle
import sqlite3

import pytest

from arrears.engine.domain.errors import StoreConflict, StoreError, StoreLocked, StoreUnwritable
from arrears.engine.domain.model import Account
from arrears.engine.store import SchemaError, Store
from tests.store.storekit import T0


def test_a_locked_database_is_store_locked(db_url, tmp_path):
    Store(db_url).close()
    holder = sqlite3.connect(tmp_path / "arrears.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")              # another writer holds the write lock
    try:
        with Store(db_url, busy_timeout=0.1) as store, pytest.raises(StoreLocked) as caught:
            store.upsert_accounts([Account("A", "EUR")], now=T0)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert str(caught.value).startswith("database is locked")
    assert isinstance(caught.value.cause, Exception) and caught.value.__cause__ is caught.value.cause
    again = pickle.loads(pickle.dumps(caught.value))       # tick workers hand errors back pickled
    assert type(again) is StoreLocked and str(again) == str(caught.value)


def test_a_database_without_the_schema_says_how_to_make_one(db_url):
    with Store(db_url, upgrade=False) as store:
        assert store.schema_revision() is None
        with pytest.raises(SchemaError, match=r"no Arrears schema in sqlite:///.*arrears\.db: run "):
            store.counts()


def test_a_broken_constraint_is_a_conflict_and_nothing_is_written(store):
    with pytest.raises(StoreConflict, match="FOREIGN KEY"):
        with store.transaction(now=T0) as w:
            w.audit("test.before", "x", {})
            w.conn.exec_driver_sql("INSERT INTO invoices (acct_no, invoice_id, amount_minor, due_day) "
                                   "VALUES (42, 'I', 1, 1)")
    assert store.counts()["audit"] == 0


def test_a_read_only_database_says_so(db_url, tmp_path):
    Store(db_url).close()
    with Store(f"sqlite:///file:{tmp_path / 'arrears.db'}?mode=ro&uri=true") as store:
        assert store.counts()["accounts"] == 0                 # reading works
        with pytest.raises(StoreUnwritable, match="disk full or database read-only"):
            store.upsert_accounts([Account("A", "EUR")], now=T0)
        assert store.write_blocker() == "disk full or database read-only: the URL opens it read-only"


@pytest.mark.parametrize("url, message", [
    ("nosuchdb://x", "cannot use the database URL nosuchdb://x"),
    ("postgresql+nosuchdriver://u:secret@localhost/db", "cannot use the database URL"),
])
def test_an_unusable_url_is_a_store_error_without_the_password(url, message):
    with pytest.raises(StoreError, match=message) as caught:
        Store(url)
    assert "secret" not in str(caught.value)


def test_an_unreachable_file_is_a_store_error(tmp_path):
    with pytest.raises(StoreError, match="the database cannot be reached"):
        Store(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'x.db'}")


def test_a_missing_file_is_refused_when_it_may_not_be_created(tmp_path):
    with pytest.raises(StoreError, match="no database file"):
        Store(f"sqlite:///{tmp_path / 'missing.db'}", create=False)


def test_errors_that_are_not_the_database_s_pass_unchanged(store):
    with pytest.raises(RuntimeError, match="not a database error"):
        with store.transaction(now=T0):
            raise RuntimeError("not a database error")


@pytest.mark.parametrize("message, kind, start", [
    ("database is locked", StoreLocked, "database is locked"),
    ("canceling statement due to lock timeout", StoreLocked, "database is locked"),          # PostgreSQL
    ("deadlock detected", StoreLocked, "database is locked"),
    ('relation "accounts" does not exist', SchemaError, "no Arrears schema in"),
    ('database "arrears" does not exist', StoreError, "the database cannot be reached"),
    ("database or disk is full", StoreUnwritable, "disk full or database read-only"),
    ("attempt to write a readonly database", StoreUnwritable, "disk full or database read-only"),
    ("could not extend file \"base/16384/2619\": No space left on device", StoreUnwritable,   # PostgreSQL
     "disk full or database read-only"),
    ("cannot execute INSERT in a read-only transaction", StoreUnwritable, "disk full or database read-only"),
    ("file is not a database", StoreError, "not a usable database file"),
    ("something else", StoreError, "database error"),
])
def test_the_driver_s_wording_names_the_failure(message, kind, start):
    from arrears.engine.store.failures import store_error
    error = store_error(sqlite3.OperationalError(message), "postgresql://u:pw@db/arrears")
    assert type(error) is kind and str(error).startswith(start)
    assert message in str(error) and "pw" not in str(error)
