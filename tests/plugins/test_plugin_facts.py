"""Facts added by plugins (`arrears_facts`) and their registry, on a real `Facts` object."""
from __future__ import annotations

import numpy as np
import pytest

from engine.batch import Batch
from engine.decide import as_epoch
from engine.factdefs import INT, MONEY, NUMBER, FactDef
from engine.facts import Facts
from plugins import hookimpl
from plugins.errors import PluginError
from plugins.facts import PluginFact, plugin_facts
from plugins.testing import plugin_manager


def weighted_balance(facts, window_days):
    """Balance (minor units) scaled by payments in the window: a toy money fact."""
    return facts.balance // (1 + facts.payments(window_days))


def crm_score(facts):
    values = np.full(facts.n, np.nan)
    values[0] = 0.25
    return values, ~np.isnan(values)


class CrmPlugin:
    @hookimpl
    def arrears_facts(self):
        return [PluginFact("weighted_balance", MONEY, "Balance divided by recent payments + 1.",
                           weighted_balance, params=("window_days",)),
                PluginFact("crm_score", NUMBER, "Score from the CRM, if it has one.", crm_score,
                           optional=True)]


@pytest.fixture
def facts(policy, make_account, ev, now):
    accounts = [make_account(id="A1"), make_account(id="A2", amount="50.00")]
    events = [[ev("payment", "2026-11-20T10:00:00Z", amount="100.00")], []]
    return Facts(Batch.from_objects(accounts, events), policy, as_epoch(now))


def test_plugin_facts_compute_columns_on_real_facts(facts):
    crm = CrmPlugin()
    pm = plugin_manager(crm)
    registry = plugin_facts(pm)
    assert list(registry) == ["weighted_balance", "crm_score"]
    weighted = registry["weighted_balance"]
    assert weighted.plugin == pm.get_name(crm)
    assert weighted.definition == FactDef("weighted_balance", MONEY, weighted.description,
                                          ("window_days",), False)
    values, present = weighted.column(facts, window_days=30)
    assert present is None and values.tolist() == [90000 // 2, 5000]    # 900.00 after a payment; 50.00
    values, present = registry["crm_score"].column(facts)
    assert present.tolist() == [True, False] and values[0] == 0.25


def test_problems_are_all_reported():
    class Bad:
        @hookimpl
        def arrears_facts(self):
            return [PluginFact("balance", MONEY, "shadows a built-in", weighted_balance),
                    PluginFact("Bad Name", "colour", "", None, params=("days",)),
                    "not a fact"]

    class Twice:
        @hookimpl
        def arrears_facts(self):
            return [PluginFact("crm_score", NUMBER, "again", crm_score)]

    class Crashes:
        @hookimpl
        def arrears_facts(self):
            raise RuntimeError("no CRM")

    with pytest.raises(PluginError) as err:
        plugin_facts(plugin_manager(CrmPlugin(), Bad(), Twice(), Crashes()))
    text = str(err.value)
    for expected in ("would shadow the built-in fact", "must be lower_snake_case",
                     "kind 'colour' is not one of", "needs a description", "compute is not callable",
                     "unknown params ['days']", "not a plugins.facts.PluginFact",
                     "is also defined by plugin", "arrears_facts raised RuntimeError: no CRM"):
        assert expected in text


def test_wrong_column_length_is_an_error(facts):
    fact = PluginFact("short", INT, "too short", lambda f: np.zeros(1, dtype=np.int64), plugin="p")
    with pytest.raises(PluginError, match="returned 1 values for 2 accounts"):
        fact.column(facts)
