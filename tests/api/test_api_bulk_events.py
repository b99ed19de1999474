"""POST /v1/events:batch: events for many accounts, a result per item, one transaction."""
from __future__ import annotations

import pytest

from tests.api.apikit import account

pytestmark = pytest.mark.also_postgresql

PAY = {"type": "payment", "at": "2026-11-20T10:00:00Z", "amount": "100.00", "invoice_id": "INV-1001"}


@pytest.fixture
def stored(api):
    """Two stored accounts (GBP)."""
    for aid in ("A-1", "A-2"):
        assert api.put(f"/v1/accounts/{aid}", account(id=aid)).status_code == 201


def item(aid: str, key: str | None = None, **event) -> dict:
    out = {"account_id": aid, "event": {**PAY, **event}}
    if key is not None:
        out["idempotency_key"] = key
    return out


def test_events_for_several_accounts_are_stored_with_their_seqs(api, stored, state):
    body = {"items": [item("A-1", "k1"), item("A-2", "k2"), item("A-1", "k3", amount="5.00")]}
    r = api.post("/v1/events:batch", body, role="integrator")
    assert r.status_code == 200
    out = r.get_json()
    assert (out["stored"], out["duplicates"], out["errors"]) == (3, 0, 0)
    assert [x["status"] for x in out["results"]] == ["stored"] * 3
    seqs = [x["seq"] for x in out["results"]]
    assert len(set(seqs)) == 3
    history = api.get("/v1/accounts/A-1/events").get_json()["items"]
    assert {(e["seq"], e["event_key"]) for e in history} == {(seqs[0], "k1"), (seqs[2], "k3")}
    assert out["audit_seq"] is not None
    assert state.store.counts()["events"] == 3


def test_each_item_stands_alone_and_a_retry_answers_duplicate(api, stored, state):
    body = {"items": [item("A-1", "k1"), item("NOPE", "k2"), item("A-2", "k3", amount="1.001"),
                      item("A-2", None, id="ev-9")]}
    out = api.post("/v1/events:batch", body).get_json()
    assert [x["status"] for x in out["results"]] == ["stored", "error", "error", "stored"]
    assert out["results"][1]["errors"][0]["pointer"] == "/items/1/account_id"
    assert out["results"][2]["errors"][0]["pointer"] == "/items/2/event/amount"
    assert state.store.counts()["events"] == 2
    again = api.post("/v1/events:batch", body).get_json()
    assert [x["status"] for x in again["results"]] == ["duplicate", "error", "error", "duplicate"]
    assert again["audit_seq"] is None and again["stored"] == 0 and again["duplicates"] == 2
    assert state.store.counts()["events"] == 2


def test_a_key_reused_for_another_event_is_an_item_error(api, stored, state):
    api.post("/v1/events:batch", {"items": [item("A-1", "k1")]})
    body = {"items": [item("A-1", "k1", amount="7.00"), item("A-2", "k1")]}
    out = api.post("/v1/events:batch", body).get_json()
    assert out["results"][0]["status"] == "error"
    assert out["results"][0]["errors"][0]["pointer"] == "/items/0/idempotency_key"
    assert out["results"][1]["status"] == "stored"          # keys are per account


def test_a_body_the_schema_refuses_is_422_and_records_nothing(api, stored, state):
    body = {"items": [item("A-1", "k1"), item("A-2", "k2", type="teleport")]}
    r = api.post("/v1/events:batch", body)
    assert r.status_code == 422
    assert r.get_json()["errors"][0]["pointer"].startswith("/items/1/event")
    assert state.store.counts()["events"] == 0


def test_too_many_items_is_a_422_that_names_the_limit(api, stored, state):
    limit = state.settings.max_bulk_events
    r = api.post("/v1/events:batch", {"items": [item("A-1", f"k{i}") for i in range(limit + 1)]})
    assert r.status_code == 422
    doc = r.get_json()
    assert doc["errors"] == [{"pointer": "/items", "detail": f"give at most {limit} items; got {limit + 1}"}]
    assert len(r.data) < 500                                # the request is not echoed back


def test_a_body_over_the_byte_limit_is_a_413_that_names_it(api, state):
    r = api.post("/v1/events:batch", {"items": [item("A-1", "x" * 150)] * 40000})
    assert r.status_code == 413
    assert str(state.settings.max_body_bytes) in r.get_json()["detail"]


@pytest.mark.parametrize("role, status", [("agent", 403), ("compliance", 403), ("integrator", 200)])
def test_roles(api, stored, role, status):
    assert api.post("/v1/events:batch", {"items": [item("A-1", "k1")]}, role=role).status_code == status


def test_served_by_waitress_a_bulk_request_and_its_retry(app, state):
    """The real server (waitress on a free port) over the test's SQLite file: 2000 events
    across 200 accounts in one request, then the same request again."""
    import http.client
    import json
    import threading

    from arrears.api.httpd import create_server
    from tests.api.apikit import KEYS

    state.store.upsert_accounts([_account(f"S-{i:03d}") for i in range(200)])
    server = create_server(app, "127.0.0.1", 0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        body = json.dumps({"items": [item(f"S-{i % 200:03d}", f"p{i}") for i in range(2000)]})
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {KEYS['integrator']}"}
        outs = []
        for _ in range(2):
            conn = http.client.HTTPConnection("127.0.0.1", server.effective_port, timeout=60)
            conn.request("POST", "/v1/events:batch", body, headers)
            resp = conn.getresponse()
            assert resp.status == 200
            outs.append(json.loads(resp.read()))
            conn.close()
    finally:
        server.close()
        thread.join(5)
    assert (outs[0]["stored"], outs[1]["duplicates"]) == (2000, 2000)
    assert state.store.counts()["events"] == 2000


def _account(aid: str):
    from arrears.api.inputs import parse_account
    return parse_account(account(id=aid))


def test_an_impossible_date_is_a_schema_error_so_the_request_is_422(api, stored, state):
    body = {"items": [item("A-1", "k1"), item("A-1", "k2", at="2026-11-31T10:00:00Z")]}
    r = api.post("/v1/events:batch", body)
    assert r.status_code == 422
    assert r.get_json()["errors"][0]["pointer"] == "/items/1/event/at"
    assert state.store.counts()["events"] == 0
