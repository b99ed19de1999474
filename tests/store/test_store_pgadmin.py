"""PostgreSQL's server-level operations (engine/store/pgadmin.py) and the bulk path on a real server:
databases made from a template, dropped; the WAL position; who holds and who waits for the audit
head's lock; rows loaded with COPY; statements planned for the table as it is (never a stale
generic plan)."""
from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy.engine import make_url

from arrears.engine.domain.errors import StoreConflict
from arrears.engine.domain.model import Account
from arrears.engine.store import Store, audit, pgadmin
from arrears.engine.store.db import bulk_insert, write_transaction
from arrears.engine.store.schema import accounts
from tests.store.storekit import T0
from tests.waiting import wait_until

pytestmark = pytest.mark.postgresql


def test_a_database_made_from_a_template_holds_its_data_and_is_dropped(pg_admin_url, pg_url):
    with Store(pg_url) as store:
        store.upsert_accounts([Account("A", "EUR"), Account("B", "JPY")], now=T0)
    template = make_url(pg_url).database
    name = f'copy "{uuid.uuid4().hex[:8]}"'          # quoted as an identifier, whatever it holds
    assert not pgadmin.database_exists(pg_admin_url, name)
    url = pgadmin.create_database(pg_admin_url, name, template=template)
    try:
        assert pgadmin.database_exists(pg_admin_url, name)
        with Store(url) as copy:
            assert copy.counts()["accounts"] == 2 and copy.verify_audit().ok
            copy.upsert_accounts([Account("C", "EUR")], now=T0)
        with Store(pg_url) as store:
            assert store.counts()["accounts"] == 2          # the template is not written through the copy
    finally:
        pgadmin.drop_database(pg_admin_url, name)
    assert not pgadmin.database_exists(pg_admin_url, name)
    pgadmin.drop_database(pg_admin_url, name)                 # dropping a missing one is no error


def test_the_wal_position_moves_with_a_write(pg_url):
    with Store(pg_url) as store:
        before = pgadmin.wal_bytes(store.engine)
        store.upsert_accounts([Account(f"A{i}", "EUR") for i in range(200)], now=T0)
        assert pgadmin.wal_bytes(store.engine) - before > 200 * 100


def test_backends_show_the_head_lock_held_and_waited_for(pg_url):
    with Store(pg_url) as store:
        holding, release, done = threading.Event(), threading.Event(), []

        def hold():
            with write_transaction(store.engine) as conn:
                audit.lock_head(conn)
                holding.set()
                release.wait(30)

        def queue():
            with write_transaction(store.engine) as conn:
                audit.lock_head(conn)
                done.append(True)

        threads = [threading.Thread(target=hold)]
        threads[0].start()
        assert holding.wait(30)
        threads.append(threading.Thread(target=queue))
        threads[1].start()
        try:
            wait_until(lambda: any(b.lock_wait for b in pgadmin.backends(store.engine)), 30, 0.05,
                       what="the second writer to wait for the head's lock")
            now = pgadmin.backends(store.engine)
            assert [b.writing for b in now if not b.lock_wait].count(True) == 1, now
            assert done == []
        finally:
            release.set()
            for t in threads:
                t.join(30)
        assert done == [True]
        assert not any(b.lock_wait or b.writing for b in pgadmin.backends(store.engine))


def test_bulk_rows_are_copied_with_their_defaults_and_constraints(pg_url):
    cols = tuple(c.name for c in accounts.c if c.name != "acct_no")       # acct_no: the identity default
    with Store(pg_url) as store:
        store.upsert_accounts([Account("A", "EUR")], now=T0)
        with store.engine.connect() as conn:
            template = conn.execute(accounts.select().where(accounts.c.id == "A")).one()._mapping
        row = tuple(template[c] for c in cols)
        rows = [(f"X{i}\t\\n'\"", *row[1:]) for i in range(3)]     # COPY's own escapes in the text
        with write_transaction(store.engine) as conn:
            bulk_insert(conn, accounts, cols, rows)
        with store.engine.connect() as conn:
            got = conn.execute(accounts.select().where(accounts.c.id.like("X%")).order_by(accounts.c.id))\
                .all()
        assert [r.id for r in got] == [r[0] for r in rows]
        assert [r.acct_no for r in got] == list(range(template["acct_no"] + 1, template["acct_no"] + 4))
        # The whole COPY fails:
        with pytest.raises(StoreConflict, match="uq_accounts_id"), write_transaction(store.engine) as conn:
            bulk_insert(conn, accounts, cols, [(f"Y{i}", *row[1:]) for i in range(3)] + [rows[0]])
        assert store.counts()["accounts"] == 4


def test_a_bulk_load_plans_its_lookups_for_the_table_as_it_grows(pg_url):
    # psycopg prepares a statement at its 5th execution and PostgreSQL may use a generic plan from
    # the prepared statement's 6th: a generic plan made while `accounts` was nearly empty (a scan)
    # was kept for a 100,000-account load's later chunks (237 s instead of 73). A bulk load's
    # statements are planned for their parameters and the table as it is.
    with Store(pg_url) as store:
        with store.transaction(now=T0) as w:
            w.upsert_accounts([Account(f"A{i:05d}", "EUR") for i in range(900 * 12)])
            w.upsert_accounts([Account(f"B{i:05d}", "EUR") for i in range(900 * 2)])
            plans = w.conn.exec_driver_sql("SELECT statement, generic_plans, custom_plans "
                                           "FROM pg_prepared_statements").all()
            assert w.conn.exec_driver_sql("SHOW plan_cache_mode").scalar() == "force_custom_plan"
        lookups = [p for p in plans if "FROM accounts" in p.statement and "IN (" in p.statement]
        assert lookups and sum(p.custom_plans for p in lookups) > 5, plans
        assert [p.generic_plans for p in lookups] == [0] * len(lookups), plans
        with store.engine.connect() as conn:       # elsewhere PostgreSQL's plan cache as it is
            assert conn.exec_driver_sql("SHOW plan_cache_mode").scalar() == "auto"


def test_vacuum_leaves_the_tables_analysed(pg_url):
    with Store(pg_url) as store:
        store.upsert_accounts([Account(f"A{i}", "EUR") for i in range(50)], now=T0)
        pgadmin.vacuum(pg_url)
        with store.engine.connect() as conn:
            row = conn.exec_driver_sql("SELECT last_vacuum IS NOT NULL, last_analyze IS NOT NULL, n_live_tup "
                                       "FROM pg_stat_user_tables WHERE relname = 'accounts'").one()
        assert tuple(row) == (True, True, 50)
