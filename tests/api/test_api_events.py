"""Events: recording (with Idempotency-Key), reading a history page by page."""
from __future__ import annotations

import pytest

from tests.api.apikit import AT, account, events

PAYMENT = {"type": "payment", "at": "2026-11-20T10:00:00Z", "amount": "100.00", "invoice_id": "INV-1001"}


@pytest.fixture
def stored(api):
    """The example account, stored."""
    assert api.put("/v1/accounts/ACME-0042", account()).status_code == 201


def test_post_one_event(api, stored, state):
    r = api.post("/v1/accounts/ACME-0042/events", PAYMENT, role="integrator")
    assert r.status_code == 201
    body = r.get_json()
    assert body["account_id"] == "ACME-0042"
    [ev] = body["events"]
    assert {k: ev[k] for k in PAYMENT} == PAYMENT
    assert ev["seq"] == 1 and ev["event_key"] is None
    assert state.store.counts()["events"] == 1


def test_idempotency_key_makes_a_retry_safe(api, stored, state):
    headers = {"Idempotency-Key": "psp-7781"}
    first = api.post("/v1/accounts/ACME-0042/events", PAYMENT, headers=headers)
    again = api.post("/v1/accounts/ACME-0042/events", PAYMENT, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.data == again.data
    assert "Idempotent-Replayed" not in first.headers and again.headers["Idempotent-Replayed"] == "true"
    assert state.store.counts()["events"] == 1
    assert first.get_json()["events"][0]["event_key"] == "psp-7781"


def test_reusing_a_key_for_another_event_is_409_and_records_nothing(api, stored, state):
    headers = {"Idempotency-Key": "k1"}
    api.post("/v1/accounts/ACME-0042/events", PAYMENT, headers=headers)
    r = api.post("/v1/accounts/ACME-0042/events", {**PAYMENT, "amount": "999.00"}, headers=headers)
    assert r.status_code == 409
    assert r.get_json()["type"] == "urn:arrears:problem:conflict"
    assert state.store.counts()["events"] == 1


def test_a_list_of_events_and_its_retry(api, stored, state):
    headers = {"Idempotency-Key": "batch-1"}
    first = api.post("/v1/accounts/ACME-0042/events", {"events": events()}, headers=headers)
    assert [e["event_key"] for e in first.get_json()["events"]] == ["batch-1#0", "batch-1#1", "batch-1#2"]
    again = api.post("/v1/accounts/ACME-0042/events", {"events": events()}, headers=headers)
    assert again.data == first.data
    assert state.store.counts()["events"] == 3


def test_event_id_is_the_key_without_a_header(api, stored, state):
    body = {**PAYMENT, "id": "pay-1"}
    api.post("/v1/accounts/ACME-0042/events", body)
    r = api.post("/v1/accounts/ACME-0042/events", body)
    assert r.headers["Idempotent-Replayed"] == "true"
    assert state.store.counts()["events"] == 1


def _balance(api) -> str:
    r = api.get("/v1/accounts/ACME-0042/decision", role="integrator")
    assert r.status_code == 200, r.get_json()
    return r.get_json()["balance"]


@pytest.mark.also_postgresql
@pytest.mark.parametrize("retry_headers", [{}, {"Idempotency-Key": "psp-other"}], ids=["no-header", "other-key"])
def test_an_event_id_is_unique_whatever_the_header(api, stored, state, retry_headers):
    """Issue 11 item 19: a payment posted with a key and again without it (or with
    another key) is recorded once, and the balance falls once."""
    body = {**PAYMENT, "id": "pay-7781"}
    first = api.post("/v1/accounts/ACME-0042/events", body, headers={"Idempotency-Key": "psp-7781"})
    before = _balance(api)
    again = api.post("/v1/accounts/ACME-0042/events", body, headers=retry_headers)
    assert first.status_code == again.status_code == 201
    assert again.data == first.data and again.headers["Idempotent-Replayed"] == "true"
    assert state.store.counts()["events"] == 1 and _balance(api) == before
    other = api.post("/v1/accounts/ACME-0042/events", {**body, "amount": "60.00"}, headers=retry_headers)
    assert other.status_code == 409
    problem = other.get_json()
    assert problem["type"] == "urn:arrears:problem:conflict" and "'pay-7781'" in problem["detail"]
    assert "seq 1" in problem["errors"][0]["detail"]
    assert state.store.counts()["events"] == 1 and _balance(api) == before


@pytest.mark.also_postgresql
def test_an_event_id_repeated_in_a_list_is_recorded_once(api, stored, state):
    body = {"events": [{**PAYMENT, "id": "pay-1"}, {**PAYMENT, "id": "pay-1"}]}
    r = api.post("/v1/accounts/ACME-0042/events", body, headers={"Idempotency-Key": "b-1"})
    assert r.status_code == 201
    assert [e["seq"] for e in r.get_json()["events"]] == [1, 1]
    assert state.store.counts()["events"] == 1
    body["events"][1]["amount"] = "1.00"
    r = api.post("/v1/accounts/ACME-0042/events", body, headers={"Idempotency-Key": "b-2"})
    assert r.status_code == 409 and r.get_json()["errors"][0]["pointer"] == "/events/1"
    assert state.store.counts()["events"] == 1


def test_one_bad_event_records_none(api, stored, state):
    bad = events() + [{"type": "payment", "at": AT}]
    r = api.post("/v1/accounts/ACME-0042/events", {"events": bad})
    assert r.status_code == 422
    assert r.get_json()["errors"][0]["pointer"] == "/events/3/amount"
    r = api.post("/v1/accounts/ACME-0042/events", {**PAYMENT, "amount": "1.001"})
    assert r.get_json()["errors"][0]["pointer"] == "/amount"
    assert state.store.counts()["events"] == 0


def test_events_for_an_unknown_account_are_404(api):
    assert api.post("/v1/accounts/NOPE/events", PAYMENT).status_code == 404
    assert api.get("/v1/accounts/NOPE/events").status_code == 404


@pytest.mark.parametrize("key", ["", "x" * 201])
def test_bad_idempotency_key(api, stored, key):
    r = api.post("/v1/accounts/ACME-0042/events", PAYMENT, headers={"Idempotency-Key": key})
    assert r.status_code == 400
    assert r.get_json()["errors"][0]["header"] == "Idempotency-Key"


def test_agents_may_record_contact_outcomes_only(api, stored):
    outcome = {"type": "contact_outcome", "at": AT, "channel": "call", "outcome": "conversation"}
    assert api.post("/v1/accounts/ACME-0042/events", outcome, role="agent").status_code == 201
    r = api.post("/v1/accounts/ACME-0042/events", PAYMENT, role="agent")
    assert r.status_code == 403
    assert r.get_json()["errors"][0]["pointer"] == "/type"
    r = api.post("/v1/accounts/ACME-0042/events", {"events": [outcome, PAYMENT]}, role="agent")
    assert r.status_code == 403 and r.get_json()["errors"][0]["pointer"] == "/events/1/type"


def test_history_pages(api, stored):
    many = [{"type": "note", "at": f"2026-11-{d:02d}T10:00:00Z"} for d in range(1, 8)]
    api.post("/v1/accounts/ACME-0042/events", {"events": list(reversed(many))})
    seen, cursor = [], None
    while True:
        r = api.get("/v1/accounts/ACME-0042/events?limit=3" + (f"&cursor={cursor}" if cursor else ""))
        page = r.get_json()
        seen += [e["at"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [e["at"] for e in many]


def test_cursor_checks(api, stored):
    api.post("/v1/accounts/ACME-0042/events", {"events": events()})
    cursor = api.get("/v1/accounts/ACME-0042/events?limit=1").get_json()["next_cursor"]
    api.put("/v1/accounts/OTHER", account(id="OTHER"))
    r = api.get(f"/v1/accounts/OTHER/events?cursor={cursor}")
    assert r.status_code == 400 and r.get_json()["errors"][0]["parameter"] == "cursor"
    for bad in ("garbage", "eyJrIjoiYSIsImYiOiJ4In0"):
        assert api.get(f"/v1/accounts/ACME-0042/events?cursor={bad}").status_code == 400


@pytest.mark.parametrize("query, parameter", [
    ("limit=0", "limit"), ("limit=100000", "limit"), ("limit=abc", "limit"), ("limit=1_0", "limit"),
    ("limit=1&limit=2", "limit"), ("lmit=5", "lmit"), ("cursor=", "cursor"),
])
def test_bad_query_parameters_are_400(api, stored, query, parameter):
    r = api.get(f"/v1/accounts/ACME-0042/events?{query}")
    assert r.status_code == 400
    assert r.get_json()["errors"][0]["parameter"] == parameter
