"""The tick's evaluation marks (`tickstore.mark_evaluated`): one row per account, written only
where the account's revision is still the one evaluated; on PostgreSQL one statement over arrays."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from arrears.engine.store import tickstore
from arrears.engine.store.db import write_transaction
from arrears.engine.store.schema import accounts
from tests.store.storekit import T0

pytestmark = pytest.mark.also_postgresql


def test_marks_are_written_where_the_revision_is_still_the_one_evaluated(store, portfolio):
    accs, _histories = portfolio
    store.upsert_accounts(accs[:6], now=T0)
    with store.engine.connect() as conn:
        nos, revs = map(list, zip(*conn.execute(select(accounts.c.acct_no, accounts.c.revision)
                                                 .order_by(accounts.c.acct_no)).all()))
    stale = nos[2]                                   # changed since the plan read it
    revs_seen = [r - 1 if n == stale else r for n, r in zip(nos, revs)]
    next_at = [T0 + 86_400 * (i + 1) if i != 4 else None for i in range(len(nos))]     # None: due now
    keys = [f"key-{i}" if i != 5 else None for i in range(len(nos))]
    dids = [100 + i if i % 2 else None for i in range(len(nos))]
    rows = [(next_at[i], T0 + 60, revs_seen[i], keys[i], dids[i], nos[i], revs_seen[i]) for i in range(len(nos))]
    with write_transaction(store.engine) as conn:
        assert tickstore.mark_evaluated(conn, rows) == len(nos) - 1
        assert tickstore.mark_evaluated(conn, []) == 0
    with store.engine.connect() as conn:
        got = {r.acct_no: r for r in conn.execute(select(accounts).order_by(accounts.c.acct_no))}
    for i, no in enumerate(nos):
        r = got[no]
        if no == stale:
            assert (r.last_evaluated_at, r.decision_key, r.decision_id) == (None, None, None)
            continue
        assert (r.next_evaluation_at, r.last_evaluated_at, r.evaluated_revision) == (next_at[i], T0 + 60, revs[i])
        assert (r.decision_key, r.decision_id) == (keys[i], dids[i])

