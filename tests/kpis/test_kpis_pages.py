"""A ledger read from the store in many pages equals one read in a single page.

`ledger_from_store` reads 10,000 accounts at a time; the hand-computed portfolio has 8,
so the other tests read it in one page. Here pages of 1 and 3 accounts (the last page
short) must give the very same KPIs, per group, as one page: nothing lost or counted
twice at page edges (flows, contacts, promises, stages, segment snapshots).
"""
from __future__ import annotations

import pytest

from arrears.engine.kpis import compute_kpis, ledger_from_store
from tests.kpis.kpikit import END_DAY, START_DAY


@pytest.mark.parametrize("page", [1, 3])
@pytest.mark.parametrize("group_by", [None, "segment", "bucket", "channel", "stage"])
def test_kpis_are_the_same_whatever_the_page_size(store, policy, costs, page, group_by):
    whole = ledger_from_store(store, policy, segment_days=[END_DAY])
    paged = ledger_from_store(store, policy, segment_days=[END_DAY], page=page)
    assert paged.n == whole.n == 8
    one = compute_kpis(whole, START_DAY, END_DAY, group_by=group_by, policy=policy, costs=costs)
    many = compute_kpis(paged, START_DAY, END_DAY, group_by=group_by, policy=policy, costs=costs)
    assert many.to_dict() == one.to_dict()
