"""Fixtures of the console tests: a real SQLite store, the app on it, a logged-out client."""
from __future__ import annotations

import pytest

from arrears.api import create_app
from tests.console.consolekit import make_store


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    store = make_store(tmp_path_factory.mktemp("console") / "console.db")
    yield store
    store.close()


@pytest.fixture()
def app(demo_store):
    app = create_app({"database_url": demo_store.url}, store=demo_store)
    app.config["TESTING"] = True
    return app


@pytest.fixture()
def client(app):
    return app.test_client()
