"""The replay pages by debtor: a debtor whose accounts straddle a page boundary is decided
in one page, so a per-debtor cap holds over the whole replay."""
from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from arrears.engine.replay import read_replay_csv, replay
from arrears.engine.replay.pages import DebtorPages
from tests.debtorcase import cap_policy
from tests.replay.replaykit import write_csv

DAY = 86400
HEADER = "account_id,debtor_id,jurisdiction,timezone,currency,invoice_id,issued_date,due_date,amount"
ROWS = [f"{acct},{debtor},AU-VIC,Australia/Sydney,AUD,I1,2026-09-01,2026-10-01,800.00"
        for acct, debtor in (("A", "D1"), ("B", "D2"), ("C", "D1"))]


def calls_per_account(run) -> dict[str, np.ndarray]:
    contacts = run.history.all_contacts()
    ids = run.history.base.ids
    return {ids[row]: np.sort(contacts["at"][contacts["acct"] == row]) for row in range(run.history.n)}


def most_in_a_week(times: np.ndarray) -> int:
    """The most contacts in any rolling 7 days."""
    return max((int(np.sum((times >= t) & (times < t + 7 * DAY))) for t in times.tolist()), default=0)


@pytest.mark.parametrize("scope, most", [("debtor", 2), ("account", 4)])
def test_a_debtor_straddling_a_page_boundary_keeps_to_its_cap(tmp_path, scope, most):
    data = read_replay_csv(write_csv(tmp_path, ROWS, header=HEADER))
    assert not data.rejects
    run = replay(data, cap_policy(tmp_path, scope=scope), date(2026, 10, 1), date(2026, 10, 28), batch_size=2)
    calls = calls_per_account(run)
    d1 = np.sort(np.concatenate((calls["A"], calls["C"])))
    assert len(calls["C"]) and len(calls["A"])
    # Per debtor, A's and C's calls together keep to 2 a week; counted per account, each has 2.
    assert most_in_a_week(d1) == most
    assert most_in_a_week(calls["B"]) == 2


def test_pages_never_split_a_debtor_and_add_its_live_accounts():
    pager = DebtorPages(np.array(["D1", "B", "D1", "E", "D1"], dtype=object))
    live = np.array([True, True, True, True, False])
    # B, then D1 whole (row 4 has left the replay), then E: a page may run over to end a debtor
    assert [p.tolist() for p in pager.pages(np.array([1, 2, 3]), 2, live)] == [[0, 1, 2], [3]]
    assert [p.tolist() for p in pager.pages(np.array([1, 2]), 2, live)] == [[0, 1, 2]]
    assert [p.tolist() for p in pager.pages(np.array([1, 3]), 1, live)] == [[1], [3]]
    assert [p.tolist() for p in pager.pages(np.array([0, 1, 2, 3]), 10, live)] == [[0, 1, 2, 3]]
