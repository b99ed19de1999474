"""Facts added by plugins (`arrears_facts`) and their registry, on a real `Facts` object."""
from __future__ import annotations

import logging

import numpy as np
import pytest

from arrears.engine.domain.batch import Batch
from arrears.engine.domain.clock import as_epoch
from arrears.engine.facts.catalogue import BOOL, INT, MONEY, NUMBER, SET, STRING, FactDef
from arrears.engine.facts.compute import Facts
from arrears.plugins import hookimpl
from arrears.plugins.errors import PluginError
from arrears.plugins.facts import PluginFact, installed_facts, plugin_facts
from arrears.plugins.testing import plugin_manager


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
        return [PluginFact("x_crm_weighted_balance", MONEY, "Balance divided by recent payments + 1.",
                           weighted_balance, params=("window_days",)),
                PluginFact("x_crm_score", NUMBER, "Score from the CRM, if it has one.", crm_score,
                           optional=True),
                PluginFact("x_crm_tier", STRING, "Tier in the CRM.",
                           lambda f: np.array(["gold"] * f.n), choices=("gold", "silver"))]


@pytest.fixture
def facts(policy, make_account, ev, now):
    accounts = [make_account(id="A1"), make_account(id="A2", amount="50.00")]
    events = [[ev("payment", "2026-11-20T10:00:00Z", amount="100.00")], []]
    return Facts(Batch.from_objects(accounts, events), policy, as_epoch(now))


def test_plugin_facts_compute_columns_on_real_facts(facts):
    crm = CrmPlugin()
    pm = plugin_manager(crm)
    registry = plugin_facts(pm)
    assert list(registry) == ["x_crm_weighted_balance", "x_crm_score", "x_crm_tier"]
    weighted = registry["x_crm_weighted_balance"]
    assert weighted.plugin == pm.get_name(crm)
    assert weighted.definition == FactDef("x_crm_weighted_balance", MONEY, weighted.description,
                                          ("window_days",), False, pm.get_name(crm), ())
    values, present = weighted.column(facts, window_days=30)
    assert present is None and values.tolist() == [90000 // 2, 5000]    # 900.00 after a payment; 50.00
    values, present = registry["x_crm_score"].column(facts)
    assert present.tolist() == [True, False] and values[0] == 0.25
    tier = registry["x_crm_tier"]
    assert tier.definition.choices == ("gold", "silver")
    values, _ = tier.column(facts)               # numpy str arrays become object arrays of str
    assert values.dtype == object and values.tolist() == ["gold", "gold"]


def test_problems_are_all_reported():
    class Bad:
        @hookimpl
        def arrears_facts(self):
            return [PluginFact("balance", MONEY, "not in the plugin namespace", weighted_balance),
                    PluginFact("x_Bad Name", "colour", "", None, params=("days",)),
                    PluginFact("x_flag", BOOL, "a flag with choices", crm_score, choices=("yes",)),
                    PluginFact("x_tier", STRING, "bad choices", crm_score, choices=("", 3)),
                    "not a fact"]

    class Twice:
        @hookimpl
        def arrears_facts(self):
            return [PluginFact("x_crm_score", NUMBER, "again", crm_score)]

    class Crashes:
        @hookimpl
        def arrears_facts(self):
            raise RuntimeError("no CRM")

    with pytest.raises(PluginError) as err:
        plugin_facts(plugin_manager(CrmPlugin(), Bad(), Twice(), Crashes()))
    text = str(err.value)
    for expected in ("fact name 'balance' must be x_ then lower_snake_case",
                     "fact name 'x_Bad Name' must be x_ then lower_snake_case",
                     "kind 'colour' is not one of", "needs a description", "compute is not callable",
                     "unknown params ['days']", "not an arrears.plugins.facts.PluginFact",
                     "choices apply to string and set facts, not bool",
                     "choices must be a list of non-empty strings",
                     "is also defined by plugin", "arrears_facts raised RuntimeError: no CRM"):
        assert expected in text


@pytest.mark.parametrize("kind, result, message", [
    (INT, lambda f: np.zeros(1, dtype=np.int64), "returned 1 values for 2 accounts"),
    (INT, lambda f: np.zeros((2, 2), dtype=np.int64), "returned an array of shape (2, 2); expected one"),
    (BOOL, lambda f: np.array(["yes", "no"]), "(bool) returned a column of <U3; expected a bool array"),
    (MONEY, lambda f: np.array([1.5, 2.0]), "(money) returned a column of float64; expected int64 minor"),
    (SET, lambda f: np.array([1, 2]), "expected an object array of frozensets"),
    (NUMBER, lambda f: (np.zeros(2), np.array([1, 0])), "`present` must be a bool array, not int64"),
])
def test_a_column_of_the_wrong_shape_or_representation_is_an_error(facts, kind, result, message):
    fact = PluginFact("x_bad", kind, "bad", result, plugin="p")
    with pytest.raises(PluginError) as err:
        fact.column(facts)
    assert message in str(err.value) and "fact 'x_bad' from plugin 'p'" in str(err.value)


def test_whole_numbers_are_accepted_for_a_number_fact(facts):
    fact = PluginFact("x_n", NUMBER, "counts as a number", lambda f: np.arange(f.n), plugin="p")
    values, present = fact.column(facts)
    assert values.dtype == np.float64 and values.tolist() == [0.0, 1.0] and present is None


def test_a_compute_that_raises_is_logged_with_its_traceback(facts, caplog):
    def broken(f):
        raise ConnectionError("CRM unreachable")

    fact = PluginFact("x_crm_flag", BOOL, "flag", broken, plugin="crm")
    with caplog.at_level(logging.WARNING, logger="arrears.plugins"), pytest.raises(PluginError) as err:
        fact.column(facts)
    assert str(err.value) == ("fact 'x_crm_flag' from plugin 'crm': compute raised "
                              "ConnectionError: CRM unreachable")
    (record,) = caplog.records
    assert "computing fact 'x_crm_flag' for 2 accounts failed" in record.getMessage()
    assert record.exc_info[0] is ConnectionError


def test_installed_facts_of_the_built_ins_alone_are_none():
    assert installed_facts(load_entrypoints=False) == {}
