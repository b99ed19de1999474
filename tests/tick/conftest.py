"""Fixtures for the tick tests: a real SQLite file, the shipped policy, a real HTTP server
standing in for every channel (the webhook channel, routed), and small portfolios."""
from __future__ import annotations

import pytest

from arrears.engine.policy.load import load_policy
from arrears.engine.store import Store
from arrears.plugins.dispatch import Dispatcher
from arrears.plugins.testing import RecordingServer, plugin_manager
from arrears.policies import DEFAULT_POLICY
from tests.tick.tickkit import NOW, ROUTES, dispatcher_config, load_portfolio


@pytest.fixture(scope="session")
def policy():
    """The shipped default policy with the jurisdiction profiles, as `arrears tick` loads it."""
    return load_policy(DEFAULT_POLICY)


@pytest.fixture
def store(db_url):
    with Store(db_url) as s:
        yield s


@pytest.fixture
def server():
    """A real HTTP server recording every request (the provider for every channel)."""
    with RecordingServer() as srv:
        yield srv


@pytest.fixture
def dispatcher(server):
    """The plugins' Dispatcher with every policy channel routed to the signed webhook."""
    return Dispatcher(plugin_manager(), dispatcher_config(server.url))


@pytest.fixture(scope="session")
def portfolio():
    """120 generated accounts with histories (deterministic)."""
    return load_portfolio(120, seed=11)


__all__ = ["NOW", "ROUTES"]
