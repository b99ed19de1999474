"""Decisions from stored data: one account's decision now or at a time, and the stored list."""
from __future__ import annotations

import pytest

from arrears.engine import decide
from arrears.engine.tick import evaluate_due
from tests.api.apikit import AT, NOW, account, call_account, events

pytestmark = pytest.mark.also_postgresql


@pytest.fixture
def stored(api):
    """The example account with its history, stored."""
    api.put("/v1/accounts/ACME-0042", account())
    api.post("/v1/accounts/ACME-0042/events", {"events": events()})


def test_account_decision_is_the_engines_and_stores_nothing(api, state, stored):
    r = api.get(f"/v1/accounts/ACME-0042/decision?at={AT}&trace=true", role="integrator")
    assert r.status_code == 200
    acc, history = state.store.get_account("ACME-0042")
    engine = decide(acc, history, state.policies.active(), NOW).to_dict()
    assert r.get_json() == engine and engine["trace"]
    plain = api.get(f"/v1/accounts/ACME-0042/decision?at={AT}").get_json()
    assert plain == {k: v for k, v in engine.items() if k != "trace"}
    assert state.store.counts()["decisions"] == 0


def test_account_decision_at_another_time(api, stored):
    later = api.get("/v1/accounts/ACME-0042/decision?at=2027-03-01T12:00:00%2B01:00").get_json()
    assert later["evaluated_at"] == "2027-03-01T11:00:00Z"
    assert later["days_past_due"] > api.get(f"/v1/accounts/ACME-0042/decision?at={AT}").get_json()["days_past_due"]


@pytest.mark.parametrize("query, parameter", [("at=soon", "at"), ("at=2026-11-22", "at"),
                                              ("policy=sha256:x", "policy"), ("when=now", "when"),
                                              ("trace=1", "trace")])
def test_account_decision_bad_parameters(api, stored, query, parameter):
    r = api.get(f"/v1/accounts/ACME-0042/decision?{query}")
    assert r.status_code == 400
    assert r.get_json()["errors"][0]["parameter"] == parameter


def test_account_decision_unknown_account(api):
    assert api.get("/v1/accounts/NOPE/decision").status_code == 404


def _tick(state, accounts_api, n=6):
    for i in range(n):
        accounts_api.put(f"/v1/accounts/CALL-{i:03d}", call_account(i))
    evaluate_due(state.store, state.policies.active(), NOW, horizon=300)


def test_decisions_list_is_empty_before_any_tick(api, stored):
    assert api.get("/v1/decisions").get_json() == {"items": [], "next_cursor": None}


def test_decisions_list_sorted_by_priority_and_paged(api, state):
    _tick(state, api)
    first = api.get("/v1/decisions?limit=4", role="integrator").get_json()
    assert len(first["items"]) == 4 and first["next_cursor"]
    rest = api.get(f"/v1/decisions?limit=4&cursor={first['next_cursor']}").get_json()
    items = first["items"] + rest["items"]
    assert rest["next_cursor"] is None and len(items) == 6
    priorities = [d["priority"] for d in items]
    assert priorities == sorted(priorities, reverse=True)
    assert {d["account_id"] for d in items} == {f"CALL-{i:03d}" for i in range(6)}
    top = items[0]
    assert top["balance"]["currency"] == "GBP" and top["evaluated_at"] == AT
    assert top["policy_digest"] == state.policies.active().digest


def test_decisions_filters(api, state):
    _tick(state, api)
    calls = api.get("/v1/decisions?channel=call").get_json()["items"]
    assert calls and all(d["channel"] == "call" and d["stage"] == "personal_call" for d in calls)
    by_stage = api.get("/v1/decisions?stage=firm_reminder&action=notice").get_json()["items"]
    assert by_stage and all(d["stage"] == "firm_reminder" for d in by_stage)
    assert api.get("/v1/decisions?account_id=CALL-001").get_json()["items"][0]["account_id"] == "CALL-001"
    assert api.get("/v1/decisions?bucket=31-60").get_json()["items"]
    assert api.get("/v1/decisions?bucket=current").get_json()["items"] == []


def test_decisions_by_evaluation_time_and_cursor_bound_to_filters(api, state):
    _tick(state, api)
    page = api.get("/v1/decisions?sort=evaluated_at&limit=2").get_json()
    assert len(page["items"]) == 2
    r = api.get(f"/v1/decisions?sort=evaluated_at&limit=2&channel=call&cursor={page['next_cursor']}")
    assert r.status_code == 400
    assert api.get("/v1/decisions?sort=amount").status_code == 400


def test_only_the_latest_decision_per_account_is_listed(api, state):
    _tick(state, api, n=3)
    api.post("/v1/accounts/CALL-002/events", {"type": "payment", "at": "2026-11-22T14:00:00Z",
                                               "amount": "600.00"})
    evaluate_due(state.store, state.policies.active(), NOW, horizon=300)
    items = api.get("/v1/decisions?account_id=CALL-002").get_json()["items"]
    # paid: no more reminders; the shipped policy thanks for the payment
    assert len(items) == 1
    assert (items[0]["action"], items[0]["stage"]) == ("acknowledgement", "payment_thanks")
