"""Small conventions: a request id on every response and log record, unknown routes as problem
documents, a payment naming an unknown invoice stored and pooled, GET and PUT of an account in
one shape."""
from __future__ import annotations

import logging
import os
import re

import pytest

from arrears.api.requestids import RequestIdFilter, new_id
from tests.api.apikit import AT, account

HEX32 = re.compile(r"[0-9a-f]{32}")


def test_every_response_has_a_request_id_of_its_own(api):
    ids = [api.get("/healthz", role=None).headers["X-Request-Id"] for _ in range(3)]
    assert all(HEX32.fullmatch(i) for i in ids) and len(set(ids)) == 3


def test_new_ids_stay_unique_across_refills_and_a_fork():
    # Ids are drawn from os.urandom 256 at a time: across several refills none repeats, and a
    # forked server process (arrears.api.workers) never hands out an id its parent holds.
    ids = [new_id() for _ in range(1000)]
    assert all(HEX32.fullmatch(i) for i in ids) and len(set(ids)) == 1000
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:                            # the child: its next ids, then leave at once
        os.write(write, " ".join(new_id() for _ in range(300)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as f:
        child = f.read().split()
    os.waitpid(pid, 0)
    parent = [new_id() for _ in range(300)]
    assert len(child) == 300 and not set(child) & set(parent) and not set(child) & set(ids)


def test_a_sane_incoming_id_is_kept_an_insane_one_replaced(api):
    kept = api.get("/v1/decisions", headers={"X-Request-Id": "sync-2026-11-22:batch/7"})
    assert kept.headers["X-Request-Id"] == "sync-2026-11-22:batch/7"
    for bad in ("has space", "x" * 129, "semi;colon", ""):
        r = api.get("/v1/decisions", headers={"X-Request-Id": bad})
        assert HEX32.fullmatch(r.headers["X-Request-Id"]), bad


@pytest.mark.parametrize("method, path, role, status", [
    ("GET", "/v1/nothing-here", "admin", 404), ("GET", "/nope", None, 404),
    ("DELETE", "/v1/decisions", "admin", 405), ("GET", "/v1/decisions", None, 401),
    ("GET", "/v1/decisions?limit=0", "admin", 400)])
def test_errors_and_unknown_routes_are_problem_documents_with_an_id(api, method, path, role, status):
    r = api.request(method, path, role=role, headers={"X-Request-Id": "req-1"}, check=False)
    assert r.status_code == status
    assert r.mimetype == "application/problem+json"
    assert r.get_json()["status"] == status
    assert r.headers["X-Request-Id"] == "req-1"


def test_log_records_made_while_serving_carry_the_id(app, api):
    seen = []

    class Keep(logging.Handler):
        def emit(self, record):
            seen.append(getattr(record, "request_id", None))

    handler = Keep()
    handler.addFilter(RequestIdFilter())
    log = logging.getLogger("arrears.api")
    log.addHandler(handler)
    try:
        app.view_functions["decisions.list_decisions"] = lambda: (log.warning("inside"), ("", 204))[1]
        api.get("/v1/decisions", headers={"X-Request-Id": "trace-me"}, check=False)
        log.warning("outside")
    finally:
        log.removeHandler(handler)
    assert seen == ["trace-me", "-"]


def test_the_document_declares_the_header_on_every_response(app):
    doc = app.extensions["arrears"].document
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            for status, resp in op["responses"].items():
                assert "X-Request-Id" in resp.get("headers", {}), (method, path, status)


# A payment naming an invoice the account does not have: stored, and pooled (allocated oldest
# first, like one without an invoice id) until that invoice is stored; never refused.
UNKNOWN = {"type": "payment", "at": "2026-11-20T10:00:00Z", "amount": "100.00", "invoice_id": "INV-9999"}


def _total(api, aid="ACME-0042") -> str:
    return api.get(f"/v1/accounts/{aid}/decision?at={AT}").get_json()["total_balance"]["amount"]


def test_a_payment_naming_an_unknown_invoice_is_stored_and_pooled(api):
    api.put("/v1/accounts/ACME-0042", account())
    before = _total(api)
    assert api.post("/v1/accounts/ACME-0042/events", UNKNOWN).status_code == 201
    assert float(_total(api)) == float(before) - 100
    # once the invoice arrives, the payment pays it (allocation is recomputed from the history)
    invoices = account()["invoices"] + [{"id": "INV-9999", "amount": "100.00", "due_date": "2026-11-01"}]
    api.put("/v1/accounts/ACME-0042", account(invoices=invoices))
    assert _total(api) == before


def test_the_bulk_path_treats_it_the_same(api):
    api.put("/v1/accounts/ACME-0042", account())
    out = api.post("/v1/events:batch", {"items": [{"account_id": "ACME-0042", "event": UNKNOWN}]}).get_json()
    assert out["results"] == [{"status": "stored", "seq": 1}]


def test_what_get_answers_can_be_put_back(api, state):
    assert api.put("/v1/accounts/ACME-0042", account()).status_code == 201
    read = api.get("/v1/accounts/ACME-0042").get_json()
    again = api.put("/v1/accounts/ACME-0042", read)
    assert again.status_code == 200
    assert again.get_json()["account"] == read["account"]
    assert again.get_json()["state"]["revision"] == read["state"]["revision"]     # unchanged
    # the bare account is still accepted, and both answer in GET's shape
    bare = api.put("/v1/accounts/ACME-0042", read["account"]).get_json()
    assert set(bare) == {"account", "state"}


def test_the_wrapped_shape_reports_pointers_inside_account(api):
    r = api.put("/v1/accounts/ACME-0042", {"account": account(id="OTHER")})
    assert r.status_code == 422 and r.get_json()["errors"][0]["pointer"] == "/account/id"
    bad = account()
    bad["invoices"][0]["amount"] = "1.001"
    r = api.put("/v1/accounts/ACME-0042", {"account": bad})
    assert r.status_code == 422 and r.get_json()["errors"][0]["pointer"] == "/account/invoices/0/amount"
