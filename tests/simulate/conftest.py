"""Fixtures for the simulation tests: a real SQLite file holding the hand-built portfolio,
and the small policy compiled as `arrears` loads it."""
from __future__ import annotations

import pytest

from arrears.engine.policy.load import load_policy
from arrears.engine.store import Store
from tests.simulate.simkit import POLICY, fill


@pytest.fixture
def store(db_url):
    """A fresh store holding the portfolio of simkit's table."""
    with Store(db_url) as s:
        fill(s)
        yield s


@pytest.fixture(scope="session")
def active():
    """simkit.POLICY, compiled."""
    return load_policy(POLICY, filename="active.yaml")


@pytest.fixture(scope="session")
def compile_text():
    """Compile a candidate's YAML text."""
    return lambda text: load_policy(text, filename="candidate.yaml")
