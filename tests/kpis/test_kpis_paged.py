"""A Tally measures a large ledger a page of accounts at a time (bounded memory): its reports
are those of the ledger measured in one piece, for every grouping and segment scope, and after
`replace` (SQLite store of a few thousand demo accounts, ticked so stages and strategies exist)."""
from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from arrears.engine.cli import main
from arrears.engine.demo import load_demo
from arrears.engine.domain.batch import epoch_day
from arrears.engine.kpis import Tally, ledger_from_store
from arrears.engine.kpis import tally as tally_module
from arrears.engine.kpis.ledger import concat, pages, subset
from arrears.engine.policy.load import load_policy
from arrears.engine.store import Store
from arrears.policies import DEFAULT_POLICY
from tests.kpis.kpikit import END_DAY

pytestmark = pytest.mark.slow
TODAY = date(2026, 12, 1)
END = epoch_day(TODAY)
DAYS = [END - 61, END]
PERIODS = [(END - 150, END), (END - 60, END - 31), (END, END), (END - 61, END - 61)]
GROUPS = (None, "channel", "segment", "bucket", "stage", "strategy")


@pytest.fixture(scope="module")
def ledger(tmp_path_factory):
    """The ledger of 2,500 demo accounts, ticked twice (decisions on two days)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('paged') / 'paged.db'}"
    with Store(url) as store:
        load_demo(store, TODAY, n=2500)
    main(["tick", "--db", url, "--at", "2026-10-01T10:00:00Z", "--no-dispatch"])
    main(["tick", "--db", url, "--at", "2026-11-30T10:00:00Z", "--no-dispatch"])
    policy = load_policy(DEFAULT_POLICY)
    with Store(url) as store:
        return ledger_from_store(store, policy, segment_days=DAYS), policy


def _reports(t: Tally, policy) -> dict:
    scopes = (None, *((name, DAYS[i % 2]) for i, name in enumerate(policy.segments)))
    return {(p, g, w): t.report(*p, group_by=g, within=w).to_dict()
            for p in PERIODS for g in GROUPS for w in scopes if g != "segment" or p[1] in DAYS}


def test_the_pages_of_a_ledger_make_the_ledger(ledger):
    led, _ = ledger
    parts = list(pages(led, 333))
    assert len(parts) == 8 and [p.n for p in parts] == [333] * 7 + [169]
    whole = concat(parts)
    for name in ("invoices", "payments", "disputes", "contacts", "promises", "stages"):
        for col, value in vars(getattr(led, name)).items():
            assert np.array_equal(getattr(getattr(whole, name), col), value), (name, col)
    assert np.array_equal(whole.segments.member, led.segments.member)
    assert whole.account_ids.tolist() == led.account_ids.tolist()
    assert [p.n for p in pages(led, 5000)] == [2500]                      # small: one piece


def test_pages_renumber_invoice_references(policy, store, monkeypatch):
    """The hand-computed portfolio pays and disputes named invoices: in pages of two accounts,
    each reference still names the invoice of the same account, and the reports do not change."""
    led = ledger_from_store(store, policy, segment_days=[END_DAY])
    assert (led.payments.invoice >= 0).any() and (led.disputes.invoice >= 0).any()
    parts = list(pages(led, 2))
    assert len(parts) > 3
    for part in parts:
        part.check()                     # references point at an invoice of the same account
    whole = concat(parts)
    assert np.array_equal(whole.payments.invoice, led.payments.invoice)
    assert np.array_equal(whole.disputes.invoice, led.disputes.invoice)
    one = Tally(led, policy).report(END_DAY - 91, END_DAY, group_by="bucket").to_dict()
    monkeypatch.setattr(tally_module, "PAGE", 2)
    assert Tally(led, policy).report(END_DAY - 91, END_DAY, group_by="bucket").to_dict() == one


def test_a_tally_measured_in_pages_reports_what_one_piece_reports(ledger, monkeypatch):
    led, policy = ledger
    whole = _reports(Tally(led, policy), policy)          # 2,500 accounts: one page (the old path)
    monkeypatch.setattr(tally_module, "PAGE", 333)
    paged = Tally(led, policy)
    assert _reports(paged, policy) == whole
    assert len(whole) > 100 and any(r["groups"] for r in whole.values())

    # the incremental path on top of it: 300 accounts out, then back in, measured in pages too
    gone = np.zeros(led.n, dtype=bool)
    gone[::9] = True
    paged.replace(gone, subset(led, gone))
    monkeypatch.setattr(tally_module, "PAGE", 10 ** 9)
    assert _reports(paged, policy) == _reports(Tally(paged.ledger, policy), policy)
