"""Connection helpers: a per-transaction `synchronous` level, plain-tuple reads, integer IN lists."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from arrears.engine.store.db import fetch_tuples, int_in, read_transaction, write_transaction
from arrears.engine.store.schema import accounts


def _level(conn) -> int:
    return conn.connection.driver_connection.execute("PRAGMA synchronous").fetchone()[0]


def _pragma(conn, name: str) -> int:
    return conn.connection.driver_connection.execute(f"PRAGMA {name}").fetchone()[0]


def test_a_write_transaction_may_commit_with_normal_and_the_connection_returns_to_full(store):
    with write_transaction(store.engine, synchronous="NORMAL", cache_kib=8192, checkpoint_pages=5000) as conn:
        assert _level(conn) == 1                                # NORMAL for this transaction
        assert (_pragma(conn, "cache_size"), _pragma(conn, "wal_autocheckpoint")) == (-8192, 5000)
        conn.exec_driver_sql("INSERT INTO leases VALUES ('x', 'me', 1.0, 1.0)")
    with store.engine.connect() as conn:                        # the pool's connection is as before
        assert _level(conn) == 2
        assert (_pragma(conn, "cache_size"), _pragma(conn, "wal_autocheckpoint")) == (-2000, 1000)
        assert conn.exec_driver_sql("SELECT holder FROM leases").scalar() == "me"


def test_the_level_is_restored_when_the_transaction_fails(store):
    with pytest.raises(RuntimeError), write_transaction(store.engine, synchronous="NORMAL") as conn:
        conn.exec_driver_sql("INSERT INTO leases VALUES ('x', 'me', 1.0, 1.0)")
        raise RuntimeError("boom")
    with store.engine.connect() as conn:
        assert _level(conn) == 2
        assert conn.exec_driver_sql("SELECT count(*) FROM leases").scalar() == 0


def test_an_unknown_level_is_refused_before_anything_runs(store):
    with pytest.raises(ValueError, match="synchronous must be"), \
            write_transaction(store.engine, synchronous="SOMETIMES"):
        pass


def test_fetch_tuples_and_int_in_read_plain_rows(store):
    with store.engine.begin() as conn:
        for n in range(1, 6):
            conn.exec_driver_sql(
                "INSERT INTO accounts (id, currency, debtor_type, tags, other_timezones, contact, digest, "
                "created_at, updated_at, changed_at, revision, evaluated_revision) "
                f"VALUES ('A{n}', 'EUR', 'business', '[]', '[]', '{{}}', 'd', 0, 0, 0, {n}, 0)")
    with read_transaction(store.engine) as conn:
        got = fetch_tuples(conn, select(accounts.c.acct_no, accounts.c.id, accounts.c.revision)
                           .where(int_in(accounts.c.acct_no, [4, 2, 9])).order_by(accounts.c.acct_no))
    assert got == [(2, "A2", 2), (4, "A4", 4)] and type(got[0]) is tuple


def test_fetch_tuples_outside_a_transaction_begins_one_like_sqlalchemy_would(store):
    with store.engine.connect() as conn:
        assert not conn.in_transaction()
        assert fetch_tuples(conn, select(accounts.c.acct_no)) == []
        assert conn.in_transaction()
