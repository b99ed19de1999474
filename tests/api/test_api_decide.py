"""POST /v1/decide: stateless decisions, the batch form, and every way a body can be wrong."""
from __future__ import annotations

import json

import pytest

from arrears.engine import Account, Event, decide
from tests.api.apikit import AT, NOW, account, events

NOW_TEXT = "2026-11-21T10:00:00Z"


def lone(state, acc: dict, evs: list) -> dict:
    """What arrears.engine.decisions.core returns for this JSON, under the app's active policy."""
    return decide(Account.from_dict(acc), [Event.from_dict(e) for e in evs], state.policies.active(),
                  NOW).to_dict()


def without_trace(decision: dict) -> dict:
    return {k: v for k, v in decision.items() if k != "trace"}


def test_single_decision_matches_the_engine(api, state):
    r = api.post("/v1/decide?trace=true", {"account": account(), "events": events(), "at": AT},
                 role="integrator")
    assert r.status_code == 200
    body = r.get_json()
    assert body == lone(state, account(), events())
    assert body["trace"] and body["balance"] == {"amount": "3860.50", "currency": "GBP"}
    assert body["evaluated_at"] == AT


def test_the_trace_comes_only_when_asked_for(api, state):
    request = {"account": account(), "events": events(), "at": AT}
    plain = api.post("/v1/decide", request)
    assert plain.status_code == 200 and "trace" not in plain.get_json()
    assert plain.get_json() == without_trace(lone(state, account(), events()))
    assert api.post("/v1/decide?trace=false", request).data == plain.data
    r = api.post("/v1/decide?trace=yes", request)
    assert r.status_code == 400 and r.get_json()["errors"][0]["parameter"] == "trace"


def test_nothing_is_stored(api, state):
    api.post("/v1/decide", {"account": account(), "events": events(), "at": AT})
    counts = state.store.counts()
    assert counts["accounts"] == counts["events"] == counts["decisions"] == 0


def test_at_defaults_to_now(api):
    body = api.post("/v1/decide", {"account": account()}).get_json()
    assert body["evaluated_at"] > AT


def test_batch_form_decides_in_item_order(api, state):
    items = [{"account": account(id=f"B{i}"), "events": events()} for i in range(3)]
    r = api.post("/v1/decide", {"items": items, "at": AT})
    assert r.status_code == 200
    got = r.get_json()["decisions"]
    assert [d["account_id"] for d in got] == ["B0", "B1", "B2"]
    assert got[1] == without_trace(lone(state, account(id="B1"), events()))
    traced = api.post("/v1/decide?trace=true", {"items": items, "at": AT}).get_json()["decisions"]
    assert traced[1] == lone(state, account(id="B1"), events())


def test_batch_limit_and_duplicates(app, api):
    limit = app.extensions["arrears"].settings.max_batch_items
    items = [{"account": account(id=f"B{i}")} for i in range(limit + 1)]
    r = api.post("/v1/decide", {"items": items})
    assert r.status_code == 422
    assert r.get_json()["errors"][0]["pointer"] == "/items"
    r = api.post("/v1/decide", {"items": [{"account": account()}, {"account": account()}]})
    assert r.status_code == 422
    assert r.get_json()["errors"] == [{"pointer": "/items/1/account/id",
                                       "detail": "repeats the account id of item 0"}]


def test_an_event_id_repeated_in_a_history_is_422(api):
    """The store records an event id once per account (issue 11 #19); a history sent to
    /v1/decide that repeats one would count the payment twice, so it is refused."""
    pay = {"type": "payment", "at": AT, "amount": "100.00", "id": "pay-1"}
    r = api.post("/v1/decide", {"account": account(), "events": [pay, {**pay, "at": NOW_TEXT}]})
    assert r.status_code == 422
    assert r.get_json()["errors"] == [{"pointer": "/events/1/id",
                                       "detail": "event id 'pay-1' repeats events[0]: an event id is unique "
                                                 "per account"}]


def test_batch_reports_every_bad_item(api):
    items = [{"account": account(id="OK")},
             {"account": account(id="X", currency="eur")},
             {"account": account(id="Y"), "events": [{"type": "payment", "at": AT}]}]
    errors = api.post("/v1/decide", {"items": items}).get_json()["errors"]
    assert [e["pointer"] for e in errors] == ["/items/1/account/currency", "/items/2/events/0/amount"]


@pytest.mark.parametrize("body, pointer, fragment", [
    ({"account": account(), "extra": 1}, "/extra", "unknown field"),
    ({"events": []}, "/account", "is required"),
    ({"account": "ACME"}, "/account", "expected object"),
    ({"account": account(), "events": {}}, "/events", "expected array"),
    ({"account": account(), "at": 5}, "/at", "expected string"),
    ({"account": account(), "at": "yesterday"}, "/at", "RFC 3339"),
    ({"account": account(), "at": "2026-11-22T15:00:00"}, "/at", "UTC offset"),
    ({"account": account(), "at": "9999-12-31T23:59:59Z"}, "/at", "between"),
    ({"account": account(invoices=[{"id": "I", "amount": "1", "due_date": "2026-13-01"}])},
     "/account/invoices/0/due_date", "date"),
    ({"account": account(invoices=[{"id": "I", "amount": "1.005", "due_date": "2026-10-01"}])},
     "/account/invoices/0/amount", "decimal places"),
    ({"account": account(invoices=[{"id": "I", "amount": "1" + "0" * 20, "due_date": "2026-10-01"}])},
     "/account/invoices/0/amount", "largest amount"),
    ({"account": account(invoices=[{"id": "I", "amount": "1e20", "due_date": "2026-10-01"}])},
     "/account/invoices/0/amount", "decimal amount"),
    ({"account": account(invoices=[{"id": "I", "amount": "1", "due_date": "9999-01-01"}])},
     "/account/invoices/0/due_date", "between"),
    ({"account": account(tags=["vip", None])}, "/account/tags/1", "null"),
    ({"account": account(debtor_type=None)}, "/account/debtor_type", "null"),
    ({"account": account(contact={"preferred_channels": [None]})},
     "/account/contact/preferred_channels/0", "null"),
    ({"account": account(timezone="Mars/Base")}, "/account/timezone", "time zone"),
    ({"account": account(), "events": [{"type": "payment", "at": AT, "amount": "-5"}]},
     "/events/0/amount", "positive"),
    ({"account": account(), "events": [{"type": "teleport", "at": AT}]}, "/events/0/type", "expected one of"),
    ({"account": account(), "events": [{"type": "note", "at": AT, "colour": "red"}]}, "/events/0", "unknown"),
    ({"account": account(), "events": [5]}, "/events/0", "expected object"),
    ({"account": account(), "policy": "sha256:" + "0" * 64}, "/policy", "no stored policy"),
    ({"account": account(), "policy": "sha256:nope"}, "/policy", "64 hex digits"),
])
def test_invalid_bodies_are_422_with_a_pointer(api, body, pointer, fragment):
    r = api.post("/v1/decide", body)
    assert r.status_code == 422, r.get_json()
    problem = r.get_json()
    assert problem["type"] == "urn:arrears:problem:invalid-input"
    assert problem["errors"][0]["pointer"] == pointer
    assert fragment in problem["errors"][0]["detail"]


@pytest.mark.parametrize("data, content_type, status", [
    (b"{not json", "application/json", 400),
    (b"", "application/json", 400),
    (b'{"account": NaN}', "application/json", 400),
    (b"\xff\xfe", "application/json", 400),
    (b"[" * 100_000 + b"]" * 100_000, "application/json", 400),
    (json.dumps({"account": account()}).encode(), "text/plain", 415),
    (json.dumps({"account": account()}).encode(), None, 415),
    (b"[1, 2]", "application/json", 422),
])
def test_malformed_bodies(api, data, content_type, status):
    r = api.request("POST", "/v1/decide", data=data, content_type=content_type)
    assert r.status_code == status, r.get_json()


def test_oversized_body_is_413(tmp_path, monkeypatch):
    from arrears.api import create_app
    from tests.api.apikit import KEYS, Api
    app = create_app({"database_url": f"sqlite:///{tmp_path / 'a.db'}",
                      "api": {"keys": {KEYS["admin"]: "admin"}, "max_body_bytes": 2048}})
    try:
        r = Api(app).post("/v1/decide", {"account": account(), "events": events() * 20})
        assert r.status_code == 413
        assert r.get_json()["status"] == 413
    finally:
        app.extensions["arrears"].close()


def test_decide_under_a_stored_policy_version(api, state):
    digest = state.policies.active().digest
    r = api.post("/v1/decide", {"account": account(), "at": AT, "policy": digest})
    assert r.status_code == 200
    assert r.get_json()["policy"]["digest"] == digest


def test_float_amounts_are_accepted_as_decimals(api):
    body = account(invoices=[{"id": "I", "amount": 120.5, "due_date": "2026-10-01"}])
    r = api.post("/v1/decide", {"account": body, "at": AT})
    assert r.get_json()["balance"] == {"amount": "120.50", "currency": "GBP"}


def test_a_closed_batcher_answers_503(api, state):
    state.batcher.close()
    r = api.post("/v1/decide", {"account": account(), "at": AT})
    assert r.status_code == 503 and r.headers["Retry-After"] == "1"
    assert r.get_json()["type"] == "urn:arrears:problem:unavailable"
