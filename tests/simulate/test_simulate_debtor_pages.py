"""The simulation pages by debtor: a debtor whose accounts straddle a page boundary is
decided in one page, so the candidate's per-debtor cap sees all of them."""
from __future__ import annotations

from arrears.engine.simulate import simulate
from arrears.engine.store import Store
from tests.debtorcase import CAP_ID, NOW, cap_policy, straddling


def test_a_debtor_straddling_a_page_boundary_is_capped(tmp_path):
    accounts, histories = straddling()
    with Store(f"sqlite:///{tmp_path / 'sim.db'}") as store:
        store.upsert_accounts(accounts, now=NOW)
        store.append_events([(a.id, e, None) for a, h in zip(accounts, histories) for e in h], now=NOW)
        per_account, per_debtor = cap_policy(tmp_path, scope="account"), cap_policy(tmp_path)
        report = simulate(store, per_account, per_debtor, NOW, batch_size=2).to_dict()
        assert [b.ids for b in store.batches(2)] == [["A", "B", "C"]]
    assert report["accounts"] == 3
    newly = report["suppressions"]["newly_suppressed"]
    assert [(r["rule"], r["accounts"]) for r in newly["by_rule"]] == [(CAP_ID, 1)], newly
    assert [s["account_id"] for s in newly["sample"]] == ["C"]
    calls = {r["action"]: (r["active"], r["candidate"]) for r in report["actions"]}
    assert calls["call"] == (2, 1)                  # B and C under the per-account cap, B alone per debtor
