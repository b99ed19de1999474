"""Fixtures for the API tests: an app on a fresh SQLite file per test, keys for every role,
and `api`, a test client that checks every response against the published OpenAPI document."""
from __future__ import annotations

import pytest

from arrears.api import create_app
from tests.api.apikit import KEYS, Api


@pytest.fixture
def config(db_url) -> dict:
    """The app configuration: the database, one key per role, the shipped policy."""
    return {"database_url": db_url, "api": {"keys": {key: role for role, key in KEYS.items()}}}


@pytest.fixture
def app(config, monkeypatch):
    """A fresh app (store created, default policy activated); closed after the test."""
    for name in ("ARREARS_API_KEYS", "ARREARS_DATABASE_URL", "ARREARS_POLICY"):
        monkeypatch.delenv(name, raising=False)
    application = create_app(config)
    yield application
    application.extensions["arrears"].close()


@pytest.fixture
def api(app) -> Api:
    """A client authenticating as admin by default (`role=` to change), checking responses."""
    return Api(app)


@pytest.fixture
def state(app):
    """The app's ApiState (store, policies, batcher, metrics)."""
    return app.extensions["arrears"]
