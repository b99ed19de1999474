"""A Tally kept between reads of the store gives the reports a full read gives, after ticks,
payments, contacts, new accounts and new decisions (SQLite and PostgreSQL)."""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import numpy as np
import pytest

from arrears.engine.cli import main
from arrears.engine.demo import generate_account, load_demo
from arrears.engine.domain.batch import epoch_day
from arrears.engine.domain.model import Event
from arrears.engine.kpis import Tally, compute_kpis, ledger_from_store
from arrears.engine.kpis.compute import default_policy
from arrears.engine.kpis.fromstore import StoreTally
from arrears.engine.store import Store

pytestmark = pytest.mark.also_postgresql
TODAY = date(2026, 12, 1)
END = epoch_day(TODAY)
PERIODS = [(END - 60, END, None), (END - 30, END, "channel"), (END - 90, END - 31, None), (END, END, "segment"),
           (END - 200, END, "bucket"), (END - 10, END, "stage")]


def _reports(tally, scopes):
    return {(p, w): tally.report(*p, within=w).to_dict() for p in PERIODS for w in scopes}


def _fresh(store, policy, scopes):
    return Tally(ledger_from_store(store, policy, segment_days=[END]), policy, scopes=scopes)


def test_a_kept_tally_follows_the_store_exactly(db_url):
    policy = default_policy()
    scopes = (None, *((name, END) for name in policy.segments))
    with Store(db_url) as store:
        load_demo(store, TODAY, n=300)
        main(["tick", "--db", db_url, "--at", "2026-11-30T10:00:00Z", "--no-dispatch"])
        kept = StoreTally(store, policy, segment_days=[END], scopes=scopes)
        before = _reports(kept.tally, scopes)
        assert before == _reports(_fresh(store, policy, scopes), scopes)
        assert kept.update() == 0                                  # nothing changed: nothing read

        # Payments, contact attempts and outcomes, a dispute; new accounts; then a tick (new decisions).
        at = datetime(2026, 11, 30, 12, tzinfo=timezone.utc)
        ids = [f"ACC{i:08d}" for i in range(0, 300, 9)]
        events = [(aid, Event("payment", at, amount=Decimal("25.00")), None) for aid in ids[::2]]
        events += [(aid, Event("contact_attempt", at, channel="call", outcome="no_answer"), None) for aid in ids]
        events += [(ids[1], Event("dispute_opened", at - timedelta(days=3)), None)]
        store.append_events(events, now=at)
        rng = random.Random(5)
        pairs = [generate_account(rng, i, TODAY) for i in range(300, 320)]
        store.upsert_accounts([a for a, _ in pairs], now=at)
        store.append_events([(a.id, e, None) for a, h in pairs for e in h], now=at)
        main(["tick", "--db", db_url, "--at", "2026-12-01T09:00:00Z", "--no-dispatch"])

        read = kept.update()
        assert 37 <= read < 320                                    # the changed, the new and the re-decided
        after = _reports(kept.tally, scopes)
        assert after == _reports(_fresh(store, policy, scopes), scopes)
        assert after != before
        # the same as the reports everyone else computes
        full = ledger_from_store(store, policy, segment_days=[END])
        assert after[(PERIODS[1], None)] == compute_kpis(full, END - 30, END, group_by="channel",
                                                         policy=policy).to_dict()
        assert kept.tally.ledger.n == 320 and sorted(kept.tally.ledger.acct_keys.tolist()) == \
            sorted(full.acct_keys.tolist())


def test_attempts_per_day_are_the_kpis_attempts(db_url):
    policy = default_policy()
    with Store(db_url) as store:
        load_demo(store, TODAY, n=200)
        tally = _fresh(store, policy, (None,))
    per_day = tally.attempts_per_day(END - 59, END)
    assert per_day.shape[0] == 60
    total = tally.report(END - 59, END).total
    assert int(per_day.sum()) == sum(r.figures["attempts"] for r in total) > 0
    vip = tally.policy.segments and next(iter(tally.policy.segments))
    scoped = tally.attempts_per_day(END - 59, END, (vip, END))
    assert int(scoped.sum()) == sum(r.figures["attempts"] for r in tally.report(END - 59, END, within=(vip, END)).total)
    assert np.all(scoped <= per_day)
