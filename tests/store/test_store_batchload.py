"""load_batch builds the same columns, and so the same decisions, as Batch.from_objects."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from arrears.engine import Batch, decide_batch, load_policy
from arrears.engine.domain.model import Account, Contact, Event
from arrears.engine.store import db
from arrears.policies import DEFAULT_POLICY
from tests.store.storekit import NOW, T0, rich_account, rich_history

pytestmark = pytest.mark.also_postgresql

POLICY = load_policy(DEFAULT_POLICY)


@pytest.fixture
def loaded(store, portfolio):
    """The portfolio plus two hand-made accounts, stored; returns (store, accounts, histories)."""
    accounts, histories = portfolio
    tricky = dataclasses.replace(rich_account("R-2"), contact=Contact(address='x "email": y'))
    accounts = list(accounts) + [rich_account(), tricky]
    histories = list(histories) + [rich_history(), []]
    store.upsert_accounts(accounts, now=T0)
    store.append_events([(a.id, e, None) for a, h in zip(accounts, histories) for e in h], now=T0)
    return store, accounts, histories


def assert_same_columns(got: Batch, want: Batch) -> None:
    for f in dataclasses.fields(Batch):
        a, b = getattr(got, f.name), getattr(want, f.name)
        if isinstance(b, np.ndarray):
            assert a.dtype == b.dtype, f.name
            if b.dtype == object:
                assert list(a) == list(b), f.name
            else:
                np.testing.assert_array_equal(a, b, err_msg=f.name)
        else:
            assert a == b, f.name


def test_load_batch_equals_from_objects_and_decides_the_same(loaded):
    store, accounts, histories = loaded
    nos = store.acct_nos([a.id for a in accounts])
    batch = store.load_batch(sorted(nos.values()))
    want = Batch.from_objects(accounts, histories)
    assert_same_columns(batch, want)
    got, expected = decide_batch(batch, POLICY, NOW), decide_batch(want, POLICY, NOW)
    assert int(expected.action_ok.sum()) > 0          # the portfolio exercises real actions
    for row in range(len(accounts)):
        assert got.decision(row).to_json() == expected.decision(row).to_json()


def test_a_sparse_selection_in_small_chunks(loaded, monkeypatch):
    store, accounts, histories = loaded
    monkeypatch.setattr(db, "IN_CHUNK", 7)       # exercise several IN (...) queries
    nos = store.acct_nos([a.id for a in accounts])
    picked = [i for i in range(len(accounts)) if i % 3 != 1]
    batch = store.load_batch([nos[accounts[i].id] for i in picked])
    assert_same_columns(batch, Batch.from_objects([accounts[i] for i in picked],
                                                  [histories[i] for i in picked]))


def test_keys_must_be_strictly_increasing(loaded):
    store, *_ = loaded
    with pytest.raises(ValueError):
        store.load_batch([3, 2])
    with pytest.raises(ValueError):
        store.load_batch([2, 2])


def test_unknown_keys_are_reported(loaded):
    store, *_ = loaded
    with pytest.raises(Exception, match="99999"):
        store.load_batch([1, 99999])


def test_empty_selection(store):
    assert store.load_batch([]).n == 0


def test_invoice_order_is_by_code_point_like_python(store):
    acc = Account.from_dict({"id": "A", "currency": "EUR", "invoices": [
        {"id": i, "amount": "1", "due_date": "2026-01-01"} for i in ("b", "B", "é", "a", "Z", "10", "9")]})
    store.upsert_accounts([acc], now=T0)
    batch = store.load_batch(list(store.acct_nos(["A"]).values()))
    assert list(batch.inv_id) == list(Batch.from_objects([acc], [[]]).inv_id)


def test_due_pages_walk_every_due_account_once(store):
    store.upsert_accounts([Account(f"A{i:03d}", "EUR") for i in range(25)], now=T0)
    page = store.due_accounts(T0, 100)
    # Evaluated: half later than now, a few already due again, some "next tick".
    nxt = [T0 + 3600 if i % 2 else (T0 - 5 if i % 5 == 0 else None) for i in range(25)]
    assert store.mark_evaluated(page.acct_nos, page.revisions, nxt, evaluated_at=T0) == 25
    want = [int(n) for n, t in zip(page.acct_nos, nxt) if t is None or t <= T0]
    seen, after = [], 0
    while True:
        part = store.due_accounts(T0, 4, after)
        if not len(part):
            break
        seen.extend(int(n) for n in part.acct_nos)
        after = part.last
    assert seen == want
    assert len(store.due_accounts(T0 + 3600, 100)) == 25


def test_mark_evaluated_keeps_an_account_that_changed_meanwhile_due(store):
    store.upsert_accounts([Account("A", "EUR")], now=T0)
    page = store.due_accounts(T0, 10)
    store.append_events([("A", Event("note", NOW), None)], now=T0 + 1)
    assert store.mark_evaluated(page.acct_nos, page.revisions, [T0 + 86400], evaluated_at=T0) == 0
    assert list(store.due_accounts(T0 + 2, 10).acct_nos) == list(page.acct_nos)


@pytest.mark.sqlite_only     # SQLite's query plan
def test_due_scan_uses_the_index(store):
    from sqlalchemy import select

    from arrears.engine.store.schema import accounts
    stmt = (select(accounts.c.acct_no, accounts.c.revision)
            .where(accounts.c.next_evaluation_at.is_(None), accounts.c.acct_no > 5)
            .order_by(accounts.c.acct_no).limit(10))
    with store.engine.connect() as conn:
        sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
        plan = " ".join(r[-1] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
    assert "COVERING INDEX ix_accounts_next_evaluation_at_acct_no_revision" in plan


def test_a_batch_split_in_memory_equals_the_parts_read_alone(loaded):
    """Batch.take (the tick's per-strategy split) gives exactly the columns, and so the
    decisions, that reading those accounts alone gives: invoices, events, their invoice
    links and plan instalments renumbered."""
    store, accounts, _ = loaded
    nos = np.asarray(sorted(store.acct_nos([a.id for a in accounts]).values()), dtype=np.int64)
    whole = store.load_batch(nos)
    assert len(whole.pi_event) and (whole.ev_inv >= 0).any()     # the links to renumber are there
    rng = np.random.default_rng(7)
    halves = np.flatnonzero(rng.random(len(nos)) < 0.5)
    for rows in (halves, np.arange(1, len(nos), 3), np.array([len(nos) - 1])):
        alone = store.load_batch(nos[rows])
        part = whole.take(rows)
        assert_same_columns(dataclasses.replace(part, tz_names=alone.tz_names,
                                                tz=np.asarray([alone.tz_names.index(whole.tz_names[z])
                                                               for z in part.tz], dtype=np.int32)), alone)
        got, want = decide_batch(part, POLICY, NOW), decide_batch(alone, POLICY, NOW)
        for row in range(len(rows)):
            assert got.decision(row).to_json() == want.decision(row).to_json()
    assert whole.take(np.arange(len(nos))) is whole
