"""The API on a database that is really full or really read-only: every write is 503 with a
problem document (never 500), nothing is stored, reads still answer, `/healthz` says why."""
from __future__ import annotations

from pathlib import Path

import pytest

from arrears.api import create_app
from tests.api.apikit import KEYS, Api, account, events
from tests.disks import fill, page_capped, tiny_tmpfs

POLICY = Path(__file__).resolve().parents[2] / "policies" / "default.yaml"
UNWRITABLE = "the database cannot be written now (disk full or read-only); nothing was changed; retry later"


def _big_account(account_id: str) -> dict:
    """An account with 1,000 invoices: more than the free room of its tables' pages (the cap bites)."""
    invoice = account()["invoices"][0]
    return account(id=account_id, invoices=[{**invoice, "id": f"{account_id}-{i}"} for i in range(1000)])


def _many_events() -> list[dict]:
    template = events()[0]
    return [{**template, "id": f"evt-{i}"} for i in range(1000)]


def _writes(api: Api):
    """Each write operation once, with a body it would accept on a healthy database."""
    newer = POLICY.read_text(encoding="utf-8").replace('version: "1.0.0"', 'version: "1.0.1"')
    assert newer != POLICY.read_text(encoding="utf-8")
    yield "PUT account", api.put("/v1/accounts/NEW-1", _big_account("NEW-1"))
    yield "accounts:batch", api.post("/v1/accounts:batch", {"accounts": [_big_account(f"NEW-{i}")
                                                                         for i in range(2, 5)]})
    yield "events", api.post("/v1/accounts/STORED/events", {"events": _many_events()})
    yield "policy upload", api.request("POST", "/v1/policies", role="compliance", data=newer.encode(),
                                       content_type="application/yaml")


def _assert_refused_and_nothing_stored(api: Api) -> None:
    for name, response in _writes(api):
        assert response.status_code == 503, (name, response.get_json())
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["detail"] == UNWRITABLE, name
        assert response.headers["Retry-After"] == "30"
    assert api.get("/v1/accounts/NEW-1").status_code == 404
    assert len(api.get("/v1/accounts/STORED/events").get_json()["items"]) == 0
    assert api.get("/v1/policies/active", role="compliance").get_json()["version"] == "1.0.0"
    assert api.get("/v1/accounts/STORED").status_code == 200          # reading still works


def _health(api: Api) -> dict:
    response = api.get("/healthz", role=None)
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "failing" and body["checks"]["policy"]["status"] == "ok"
    return body["checks"]["database"]


@pytest.fixture
def stored(api):
    """One stored account without events, `STORED`."""
    assert api.put("/v1/accounts/STORED", account(id="STORED")).status_code == 201
    return api


def test_a_full_database_refuses_every_write_with_503_and_healthz_says_so(stored, state):
    assert stored.get("/healthz", role=None).status_code == 200
    with page_capped(state.store.engine):
        _assert_refused_and_nothing_stored(stored)
        database = _health(stored)
    assert database["detail"].startswith("the database cannot be written: disk full or database read-only: "
                                         "the file is at its maximum of ")
    # The cap is gone, but a write was refused a moment ago: still reported for a minute.
    assert _health(stored)["detail"].startswith("the database cannot be written: a write was refused")


def test_a_read_only_database_refuses_every_write_and_healthz_says_so(db_url, tmp_path, monkeypatch):
    keys = {"api": {"keys": {key: role for role, key in KEYS.items()}}}
    writable = create_app({"database_url": db_url, **keys})
    assert Api(writable).put("/v1/accounts/STORED", account(id="STORED")).status_code == 201
    writable.extensions["arrears"].close()
    app = create_app({"database_url": f"sqlite:///file:{tmp_path / 'arrears.db'}?mode=ro&uri=true", **keys})
    try:
        api = Api(app)
        assert _health(api) == {"status": "failing", "detail": "the database cannot be written: disk full "
                                                               "or database read-only: the URL opens it read-only"}
        _assert_refused_and_nothing_stored(api)
        tick = api.post("/v1/ticks", {})          # its run is recorded before it starts: refused at once
        assert tick.status_code == 503 and tick.get_json()["detail"] == UNWRITABLE
    finally:
        app.extensions["arrears"].close()


def test_a_disk_with_no_byte_left(tmp_path):
    with tiny_tmpfs(tmp_path / "disk", 2048) as disk:
        app = create_app({"database_url": f"sqlite:///{disk / 'arrears.db'}",
                          "api": {"keys": {key: role for role, key in KEYS.items()}}})
        try:
            api = Api(app)
            assert api.put("/v1/accounts/STORED", account(id="STORED")).status_code == 201
            assert api.get("/healthz", role=None).status_code == 200
            fill(disk)
            assert _health(api) == {"status": "failing", "detail": "the database cannot be written: disk full "
                                                                   "or database read-only: its disk is full "
                                                                   "(0 KiB free)"}
            _assert_refused_and_nothing_stored(api)
        finally:
            app.extensions["arrears"].close()
