"""Accounts: PUT/GET /v1/accounts/{id} and the bulk upsert POST /v1/accounts:batch."""
from __future__ import annotations

import re

import pytest

from arrears.engine import Account
from tests.api.apikit import account


def test_put_creates_then_replaces_then_changes_nothing(api, state):
    r = api.put("/v1/accounts/ACME-0042", account(), role="integrator")
    assert r.status_code == 201
    body = r.get_json()
    assert body["account"]["invoices"][1] == {"id": "INV-1044", "amount": "860.50", "issued_date": "2026-09-20",
                                              "due_date": "2026-10-20"}
    assert body["state"]["revision"] == 1 and body["state"]["next_evaluation_at"] is None

    changed = account(invoices=account()["invoices"][:1])
    r = api.put("/v1/accounts/ACME-0042", changed)
    assert r.status_code == 200
    assert r.get_json()["state"]["revision"] == 2
    assert len(r.get_json()["account"]["invoices"]) == 1

    r = api.put("/v1/accounts/ACME-0042", changed)
    assert r.status_code == 200 and r.get_json()["state"]["revision"] == 2


def test_round_trip_what_you_read_you_can_send_back(api):
    api.put("/v1/accounts/ACME-0042", account(tags=["vip", "b2b"]))
    stored = api.get("/v1/accounts/ACME-0042").get_json()["account"]
    assert Account.from_dict(stored) == Account.from_dict(account(tags=["vip", "b2b"]))
    assert api.put("/v1/accounts/ACME-0042", stored).status_code == 200


def test_id_may_be_left_out_but_must_match(api):
    body = account()
    del body["id"]
    assert api.put("/v1/accounts/NEW-1", body).get_json()["account"]["id"] == "NEW-1"
    r = api.put("/v1/accounts/NEW-2", account(id="OTHER"))
    assert r.status_code == 422
    assert r.get_json()["errors"] == [{"pointer": "/id", "detail": "must match the account id in the path"}]


def test_put_invalid_account_names_the_field_and_stores_nothing(api, state):
    bad = account(invoices=[{"id": "I", "amount": "12.345", "due_date": "2026-10-01"}])
    r = api.put("/v1/accounts/ACME-0042", bad)
    assert r.status_code == 422
    assert r.get_json()["errors"][0]["pointer"] == "/invoices/0/amount"
    r = api.put("/v1/accounts/ACME-0042", account(risk_score=3))
    assert r.get_json()["errors"][0]["pointer"] == "/risk_score"
    r = api.put("/v1/accounts/ACME-0042", account(colour="red"))
    assert r.get_json()["errors"][0]["pointer"] == ""
    assert "unknown field" in r.get_json()["errors"][0]["detail"]
    assert state.store.counts()["accounts"] == 0


def test_get_unknown_account_is_404(api):
    r = api.get("/v1/accounts/NOPE")
    assert r.status_code == 404
    assert r.get_json()["type"] == "urn:arrears:problem:not-found"


def test_bulk_upsert(api, state):
    accounts = [account(id=f"A{i}") for i in range(5)]
    r = api.post("/v1/accounts:batch", {"accounts": accounts}, role="integrator")
    assert r.status_code == 200
    assert r.get_json() == {"inserted": 5, "updated": 0, "unchanged": 0, "invoices": 10,
                            "audit_seq": r.get_json()["audit_seq"]}
    accounts[2]["risk_score"] = 0.9
    r = api.post("/v1/accounts:batch", {"accounts": accounts})
    assert (r.get_json()["updated"], r.get_json()["unchanged"]) == (1, 4)


def test_bulk_upsert_is_all_or_nothing_and_reports_every_bad_account(api, state):
    accounts = [account(id="A0"), account(id="A1", currency="euro"), account(id="A2"),
                account(id="A3", invoices=[{"id": "I", "amount": "x", "due_date": "2026-10-01"}])]
    r = api.post("/v1/accounts:batch", {"accounts": accounts})
    assert r.status_code == 422
    assert [e["pointer"] for e in r.get_json()["errors"]] == ["/accounts/1/currency",
                                                               "/accounts/3/invoices/0/amount"]
    assert state.store.counts()["accounts"] == 0


def test_bulk_upsert_limits(app, api):
    assert api.post("/v1/accounts:batch", {"accounts": []}).status_code == 422
    limit = app.extensions["arrears"].settings.max_batch_accounts
    r = api.post("/v1/accounts:batch", {"accounts": [account(id=f"A{i}") for i in range(limit + 1)]})
    assert r.status_code == 422 and r.get_json()["errors"][0]["pointer"] == "/accounts"


def test_a_contact_name_is_kept_and_checked(api, state):
    named = account(contact={**account()["contact"], "name": "Ada Lovelace"})
    assert api.put("/v1/accounts/ACME-0042", named).status_code == 201
    assert api.get("/v1/accounts/ACME-0042").get_json()["account"]["contact"]["name"] == "Ada Lovelace"
    for bad, says in ((" ", "non-empty string"), ("A" * 201, "at most 200 characters"),
                      ("Ada\nLovelace", "on one line"), ("Ada\x07", "control characters")):
        r = api.put("/v1/accounts/ACME-0042", account(contact={"name": bad}))
        assert r.status_code == 422
        error = r.get_json()["errors"][0]
        assert error["pointer"] == "/contact/name" and says in error["detail"], error
    assert api.get("/v1/accounts/ACME-0042").get_json()["account"]["contact"]["name"] == "Ada Lovelace"
    schema = state.document["components"]["schemas"]
    contact = next(s for s in schema.values() if "preferred_channels" in s.get("properties", {}))
    name = contact["properties"]["name"]["anyOf"][0]
    assert name["maxLength"] == 200 and re.fullmatch(name["pattern"], "Zoë O'Brien")
    assert not re.fullmatch(name["pattern"], "Ada\nLovelace") and not re.fullmatch(name["pattern"], "  ")


@pytest.mark.parametrize("path,body,detail", [
    ("/v1/accounts/ACME-0042", account(currency="euro"),                       # a field of the body root
     "/currency: expected an ISO 4217 currency code such as 'EUR', got 'euro'"),
    ("/v1/accounts/ACME-0042", account(contact={"email": 5}),                  # a nested field
     "/contact/email: expected a non-empty string, got 5"),
    ("/v1/accounts/ACME-0042", account(invoices=[{"id": "I", "amount": "1.001", "due_date": "2026-10-01"}]),
     "/invoices/0/amount: 1.001 has more decimal places than GBP allows (2)"),  # a list item's field
    ("/v1/accounts/ACME-0042", account(tags=["ok", 7]), "/tags/1: expected a non-empty string, got 7"),
    ("/v1/accounts:batch", {"accounts": [account(id="A0"), account(id="A1", contact={"email": 5})]},
     "/accounts/1/contact/email: expected a non-empty string, got 5"),
])
def test_a_bad_bodys_detail_names_the_field_by_its_pointer(api, path, body, detail):
    r = (api.post if path.endswith(":batch") else api.put)(path, body)
    assert r.status_code == 422
    assert r.get_json()["detail"] == detail
    assert [e["pointer"] + ": " + e["detail"] for e in r.get_json()["errors"]] == [detail]


@pytest.mark.parametrize("data,where", [
    ({"id": "A", "currency": "euro"}, "currency"),
    ({"id": "A", "currency": "EUR", "contact": {"email": 5}}, "contact.email"),
    ({"id": "A", "currency": "EUR", "invoices": [{"id": "I", "amount": "1.001", "due_date": "2026-10-01"}]},
     "invoices[0].amount"),
])
def test_an_account_at_the_body_root_names_its_fields_without_a_leading_dot(data, where):
    """parse_account at the root ("") gives `currency`, not `.currency`, in the error's path and
    its text (what the CLI and logs print)."""
    from arrears.api.inputs import parse_account
    from arrears.engine.domain.errors import InputError
    with pytest.raises(InputError) as caught:
        parse_account(data)
    assert caught.value.where == where and str(caught.value).startswith(f"{where}: ")
    with pytest.raises(InputError) as caught:
        parse_account(data, "items[2].account")
    assert caught.value.where == f"items[2].account.{where}"
