"""Fixtures for the goals tests: the shipped policy and the hand-computed portfolio in a real
SQLite file, read back through `ledger_from_store` as the CLI and the API read it."""
from __future__ import annotations

import pytest
from goalkit import load

from engine.policy import load_policy
from policies import DEFAULT_POLICY


@pytest.fixture(scope="session")
def policy():
    """The shipped default policy."""
    return load_policy(DEFAULT_POLICY)


@pytest.fixture
def store(db_url):
    """A store holding the portfolio of goalkit."""
    from engine.store import Store
    with Store(db_url) as s:
        load(s)
        yield s
