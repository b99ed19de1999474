"""GET /v1/decisions: a decision made before its account last changed is stale; `stale=` filters."""
from __future__ import annotations

import pytest

from arrears.engine.tick import evaluate_due
from tests.api.apikit import NOW, call_account

pytestmark = pytest.mark.also_postgresql


@pytest.fixture
def decided(api, state):
    """Four call accounts, decided by a tick."""
    for i in range(4):
        api.put(f"/v1/accounts/CALL-{i:03d}", call_account(i))
    evaluate_due(state.store, state.policies.active(), NOW, horizon=300)


def _ids(api, query: str = "") -> dict:
    return {d["account_id"]: d for d in api.get(f"/v1/decisions{query}").get_json()["items"]}


def test_a_payment_after_the_tick_makes_the_decision_stale(api, decided):
    assert not any(d["stale"] for d in _ids(api).values())
    pay = {"type": "payment", "at": "2026-11-22T14:00:00Z", "amount": "300.00"}
    assert api.post("/v1/accounts/CALL-001/events", pay).status_code == 201
    items = _ids(api)
    assert items["CALL-001"]["stale"] is True
    assert "the account changed at" in items["CALL-001"]["stale_reason"]
    assert items["CALL-001"]["policy"]["active"] is True          # the policy did not change
    assert [d["stale"] for k, d in sorted(items.items()) if k != "CALL-001"] == [False] * 3


def test_an_upsert_after_the_tick_makes_it_stale_too(api, decided):
    api.put("/v1/accounts/CALL-002", call_account(2, risk_score=0.9))
    assert _ids(api)["CALL-002"]["stale"] is True


def test_the_stale_filter(api, state, decided):
    api.post("/v1/events:batch", {"items": [
        {"account_id": a, "event": {"type": "note", "at": "2026-11-22T14:00:00Z", "note": "called"}}
        for a in ("CALL-000", "CALL-003")]})
    assert set(_ids(api, "?stale=true")) == {"CALL-000", "CALL-003"}
    assert set(_ids(api, "?stale=false")) == {"CALL-001", "CALL-002"}
    assert len(_ids(api)) == 4
    # the next tick decides the changed accounts again: nothing is stale any more
    evaluate_due(state.store, state.policies.active(), NOW, horizon=300)
    assert _ids(api, "?stale=true") == {}


def test_the_stale_filter_pages_with_its_own_cursor(api, decided):
    api.put("/v1/accounts/CALL-002", call_account(2, risk_score=0.9))
    first = api.get("/v1/decisions?stale=false&limit=2").get_json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = api.get(f"/v1/decisions?stale=false&limit=2&cursor={first['next_cursor']}").get_json()
    assert {d["account_id"] for d in first["items"] + rest["items"]} == {"CALL-000", "CALL-001", "CALL-003"}
    other = api.get(f"/v1/decisions?stale=true&limit=2&cursor={first['next_cursor']}")
    assert other.status_code == 400 and other.get_json()["errors"][0]["parameter"] == "cursor"


def test_stale_must_be_true_or_false(api, decided):
    r = api.get("/v1/decisions?stale=yes")
    assert r.status_code == 400 and r.get_json()["errors"][0]["parameter"] == "stale"
