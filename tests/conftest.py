"""Shared fixtures for the core tests (the factories themselves live in core_factories)."""
from __future__ import annotations

from datetime import datetime

import pytest

from arrears.engine.policy.compiler import compile_policy
from tests.core_factories import NOW, POLICY_PATH, TODAY, days_ago, default_policy_doc, ev, make_account  # noqa: F401  (re-exported for fixtures below)


@pytest.fixture
def db_url(tmp_path) -> str:
    """URL of a SQLite file under `tmp_path` that does not exist yet (a real database file)."""
    return f"sqlite:///{tmp_path / 'arrears.db'}"


@pytest.fixture(scope="session")
def policy_doc():
    """The shipped policy document (a fresh copy per session; do not mutate)."""
    return default_policy_doc()


@pytest.fixture(scope="session")
def policy():
    """The shipped default policy, compiled."""
    return compile_policy(default_policy_doc())


@pytest.fixture(scope="session")
def now() -> datetime:
    """The fixed evaluation instant of the suite: 2026-11-22T15:00:00Z (a Sunday)."""
    return NOW


@pytest.fixture(scope="session", name="make_account")
def make_account_fixture():
    return make_account


@pytest.fixture(scope="session", name="ev")
def ev_fixture():
    return ev
