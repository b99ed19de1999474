"""Accounts: PUT/GET /v1/accounts/{account_id}, POST /v1/accounts:batch (bulk upsert)."""
from __future__ import annotations

from arrears.api.inputs import parse_account
from arrears.api.openapi.model import ref
from arrears.api.problems import ApiProblem, from_input_error, invalid
from arrears.api.resources.common import INTEGRATOR
from arrears.api.routing import Resource
from arrears.api.serialize import account_to_dict, state_to_dict
from arrears.engine.domain.errors import InputError
from arrears.engine.store import accountreads
from arrears.engine.store.db import read_transaction

resource = Resource("accounts", "Accounts", "Debtor accounts and their invoices.")


def not_found(account_id: str) -> ApiProblem:
    """404 for an account id that is not stored."""
    return ApiProblem(404, "not-found", f"no account with id {account_id[:200]!r} is stored")


@resource.route("PUT", "/v1/accounts/{account_id}", roles=INTEGRATOR, summary="Create or replace an account",
                description="Stores the account with its invoices (the invoices replace the stored "
                            "ones). The body is the account, or the account in the shape `GET` answers "
                            "with (`{\"account\": …, \"state\": …}`; `state` is read-only and "
                            "ignored), so what is read can be sent back. `id` in the account may be "
                            "left out; if given it must match the path. An identical account changes "
                            "nothing. 201 when created, 200 otherwise; the answer has the shape of `GET`.",
                body=(("account", "AccountResourceInput"), (None, "AccountAtPath")),
                responses={200: ("Replaced (or unchanged)", ref("AccountResource")),
                           201: ("Created", ref("AccountResource"))})
def put_account(call, account_id):
    """PUT /v1/accounts/{account_id}: create or replace an account."""
    wrapped = call.variant == "AccountResourceInput"
    data, prefix = (call.body["account"], "/account") if wrapped else (call.body, "")
    if "id" in data and data["id"] != account_id:
        raise invalid([{"pointer": f"{prefix}/id", "detail": "must match the account id in the path"}])
    try:
        account = parse_account({**data, "id": account_id})
    except InputError as exc:
        raise from_input_error(exc, prefix) from None
    with call.state.store.transaction() as w:
        report = w.upsert_accounts([account])
        stored, row = accountreads.account(w.conn, account_id)
    status = 201 if report.inserted else 200
    return {"account": account_to_dict(stored), "state": state_to_dict(row)}, status


@resource.route("GET", "/v1/accounts/{account_id}", roles=INTEGRATOR, summary="Read an account",
                responses={200: ("The account and its bookkeeping", ref("AccountResource"))})
def get_account(call, account_id):
    """GET /v1/accounts/{account_id}: read an account."""
    with read_transaction(call.state.store.engine) as conn:
        found = accountreads.account(conn, account_id)
    if found is None:
        raise not_found(account_id)
    account, row = found
    return {"account": account_to_dict(account), "state": state_to_dict(row)}


@resource.route("POST", "/v1/accounts:batch", roles=INTEGRATOR, summary="Create or replace many accounts",
                operation_id="upsert_accounts",
                description="Upserts every account in one transaction: if any account is invalid, "
                            "nothing is stored and every invalid account is reported. A repeated id: "
                            "the last one wins.",
                body=((None, "AccountsBatchRequest"),),
                responses={200: ("What was stored", ref("UpsertResult"))})
def upsert_accounts(call):
    """POST /v1/accounts:batch: create or replace many accounts."""
    accounts, errors = [], []
    for i, data in enumerate(call.body["accounts"]):
        try:
            accounts.append(parse_account(data, f"accounts[{i}]"))
        except InputError as exc:
            errors.append(from_input_error(exc).errors[0])
    if errors:
        raise invalid(errors)
    report = call.state.store.upsert_accounts(accounts)
    return {"inserted": report.inserted, "updated": report.updated, "unchanged": report.unchanged,
            "invoices": report.invoices, "audit_seq": report.audit_seq}
