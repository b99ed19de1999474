"""Fixtures for the simulation tests: a real SQLite file holding the hand-built portfolio,
and the small policy compiled as `arrears` loads it."""
from __future__ import annotations

import pytest
from simkit import POLICY, fill

from engine.policy import load_policy
from engine.store import Store


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
