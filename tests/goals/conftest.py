"""Fixtures for the goals tests: the shipped policy and the hand-computed portfolio in a real
SQLite file, read back through `ledger_from_store` as the CLI and the API read it."""
from __future__ import annotations

import pytest

from arrears.engine.policy.load import load_policy
from arrears.policies import DEFAULT_POLICY
from tests.goals.goalkit import load


@pytest.fixture(scope="session")
def policy():
    """The shipped default policy."""
    return load_policy(DEFAULT_POLICY)


@pytest.fixture
def store(db_url):
    """A store holding the portfolio of goalkit."""
    from arrears.engine.store import Store
    with Store(db_url) as s:
        load(s)
        yield s
