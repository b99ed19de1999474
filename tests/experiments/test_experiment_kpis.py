"""The KPIs grouped by experiment strategy, from the strategy the tick records on each decision:
each group's figures are exactly those of its strategy's accounts computed alone."""
from __future__ import annotations

import numpy as np
import pytest

from arrears.engine.domain.batch import epoch_day
from arrears.engine.experiments import lifecycle
from arrears.engine.kpis import compute_kpis
from arrears.engine.kpis.fromstore import ledger_from_store
from arrears.engine.kpis.ledger import subset
from arrears.engine.store import Store
from arrears.engine.tick.runner import run_tick
from tests.experiments.test_experiment_tick import _setup
from tests.tick.tickkit import NOW, load, load_portfolio

pytestmark = pytest.mark.also_postgresql


@pytest.fixture
def store(db_url):
    with Store(db_url) as s:
        yield s


def test_kpis_group_by_strategy_equal_each_strategys_accounts_alone(store, tmp_path):
    accounts, histories = load_portfolio(200, seed=21)
    load(store, accounts, histories)
    champion, _, path = _setup(store, tmp_path)
    run_tick(store, champion, NOW)                   # before the experiment: no strategy recorded
    start_row = lifecycle.start(store, path, by="test", now=NOW)
    run_tick(store, champion, NOW)
    arms = {acct: arm for acct, _d, arm, _at in store.experiments.account_arms(start_row["id"])}
    ledger = ledger_from_store(store, champion)
    start, end = epoch_day(NOW.date()) - 60, epoch_day(NOW.date()) + 1     # NOW is tomorrow east of UTC
    grouped = compute_kpis(ledger, start, end, group_by="strategy", policy=champion).to_dict()
    assert grouped["group_by"] == "strategy"
    names = [g["group"] for g in grouped["groups"]]
    assert names[0] == "champion" and set(names) == {"champion", "sms-first"}
    for arm in ("champion", "sms-first"):
        mask = np.asarray([arms[int(k)] == arm for k in ledger.acct_keys], dtype=bool)
        alone = compute_kpis(subset(ledger, mask), start, end, policy=champion).to_dict()
        mine = [g for g in grouped["groups"] if g["group"] == arm]
        assert [(g["currency"], g["figures"], g["kpis"]) for g in mine] == \
            [(g["currency"], g["figures"], g["kpis"]) for g in alone["groups"]]
    # Before the experiment's decisions, every account is "(none)".
    earlier = compute_kpis(ledger, start, end - 3, group_by="strategy", policy=champion).to_dict()
    assert {g["group"] for g in earlier["groups"]} == {"(none)"}
