"""Fixtures for the KPI tests: the shipped policy, and the hand-computed portfolio in a real
SQLite file (written through the store, read back by `ledger_from_store`)."""
from __future__ import annotations

import pytest

from arrears.engine.kpis import ledger_from_store, parse_costs
from arrears.engine.policy.load import load_policy
from arrears.engine.store import Store
from arrears.policies import DEFAULT_POLICY
from tests.kpis.kpikit import END_DAY, load


@pytest.fixture(scope="session")
def policy():
    """The shipped default policy with its profiles, as the CLI and the API load it."""
    return load_policy(DEFAULT_POLICY)


@pytest.fixture
def store(db_url):
    """A store holding the hand-computed portfolio."""
    with Store(db_url) as s:
        load(s)
        yield s


@pytest.fixture
def ledger(store, policy):
    """The portfolio's ledger, with segment membership at the end of October."""
    return ledger_from_store(store, policy, segment_days=[END_DAY])


@pytest.fixture(scope="session")
def costs():
    """Unit costs for GBP only (EUR has none)."""
    from tests.kpis.kpikit import COSTS
    return parse_costs(COSTS)
