"""Store fixtures: a fresh SQLite file per test, a generated portfolio.

Every store test runs against a real SQLite database file under `tmp_path`, the
same code path production uses (WAL, foreign keys, migrations on open).
"""
from __future__ import annotations

import pytest

from arrears.engine.demo import generate
from arrears.engine.store import Store
from tests.store.storekit import TODAY


@pytest.fixture
def store(db_url):
    """A fresh store (schema created on open)."""
    with Store(db_url) as s:
        yield s


@pytest.fixture(scope="session")
def portfolio():
    """300 generated accounts with their histories (deterministic)."""
    return generate(300, seed=7, today=TODAY)
