"""GET /v1/work-queue: today's call list, computed before the first tick, from the tick after."""
from __future__ import annotations

import pytest

from arrears.api import create_app
from arrears.engine.tick import evaluate_due
from datetime import timedelta

from tests.api.apikit import KEYS, NOW, Api, call_account

pytestmark = pytest.mark.also_postgresql

# The suite's NOW is a Sunday afternoon, when the shipped policy's house hours call no
# consumer: the queue is read on the Monday morning after.
MONDAY = NOW + timedelta(hours=19)
AT = "2026-11-23T10:00:00Z"


def _store_calls(api, n=6):
    for i in range(n):
        api.put(f"/v1/accounts/CALL-{i:03d}", call_account(i))


def test_computed_before_any_tick(api, state):
    _store_calls(api)
    r = api.get(f"/v1/work-queue?channel=call&at={AT}", role="agent")
    assert r.status_code == 200
    body = r.get_json()
    assert body["source"] == "computed" and body["date"] == "2026-11-23" and body["capacity"] == 100
    ids = [i["account_id"] for i in body["items"]]
    assert ids == ["CALL-005", "CALL-004", "CALL-003", "CALL-002"]       # balance >= 500: a call
    assert all(i["channel"] == "call" and i["stage"] == "personal_call" for i in body["items"])
    assert state.store.counts()["decisions"] == 0


def test_from_the_tick_once_it_ran(api, state):
    _store_calls(api)
    evaluate_due(state.store, state.policies.active(), MONDAY, horizon=300)
    body = api.get(f"/v1/work-queue?at={AT}", role="agent").get_json()
    assert body["source"] == "tick"
    assert [i["account_id"] for i in body["items"]] == ["CALL-005", "CALL-004", "CALL-003", "CALL-002"]
    priorities = [i["priority"] for i in body["items"]]
    assert priorities == sorted(priorities, reverse=True)


def test_an_account_changed_since_the_tick_waits_for_the_next_one(api, state):
    _store_calls(api)
    evaluate_due(state.store, state.policies.active(), MONDAY, horizon=300)
    api.post("/v1/accounts/CALL-005/events", {"type": "payment", "at": "2026-11-22T14:00:00Z", "amount": "800.00"})
    ids = [i["account_id"] for i in api.get(f"/v1/work-queue?at={AT}").get_json()["items"]]
    assert "CALL-005" not in ids and ids


def test_capacity_caps_the_list(tmp_path):
    app = create_app({"database_url": f"sqlite:///{tmp_path / 'a.db'}",
                      "api": {"keys": {KEYS["agent"]: "agent", KEYS["admin"]: "admin"},
                              "work_queue_capacity": {"call": 2, "email": 0}}})
    try:
        api = Api(app)
        _store_calls(api)
        body = api.get(f"/v1/work-queue?at={AT}", role="agent").get_json()
        assert body["capacity"] == 2 and len(body["items"]) == 2
        assert api.get(f"/v1/work-queue?channel=email&at={AT}").get_json()["items"] == []
        evaluate_due(app.extensions["arrears"].store, app.extensions["arrears"].policies.active(), MONDAY,
                     horizon=300)
        assert [i["account_id"] for i in api.get(f"/v1/work-queue?at={AT}").get_json()["items"]] == \
            ["CALL-005", "CALL-004"]
    finally:
        app.extensions["arrears"].close()


def test_other_days_and_kinds(api):
    _store_calls(api)
    assert api.get("/v1/work-queue?channel=letter&at=2026-11-22T15:00:00Z").get_json()["items"] == []
    assert api.get("/v1/work-queue?channel=fax").status_code == 400


@pytest.mark.parametrize("role, status", [("agent", 200), ("admin", 200), ("integrator", 403),
                                          ("compliance", 403), (None, 401)])
def test_work_queue_roles(api, role, status):
    assert api.get("/v1/work-queue", role=role).status_code == status
