"""Schemathesis hooks for `test_api_schemathesis.py`: positive cases made to respect the few
rules the server enforces that OpenAPI cannot state.

`SCHEMATHESIS_HOOKS=tests.api.schemathesis_hooks` loads this module into `schemathesis run`.
Only cases generated as *valid* (positive mode) are touched, so `positive_data_acceptance`
("a schema-valid request is accepted") is checked on requests that really are valid, and
every negative case reaches the server exactly as generated. Each rule here is one the
document states in words (descriptions) because JSON Schema cannot express it:

- a `cursor` must be one this server issued for the same list and filters: the generated
  one is dropped (forged ones get their 400 in tests/api/test_api_wrong_types.py);
- a policy digest (`policy`) must name a stored version: the active one is used
  (`ARREARS_FUZZ_DIGEST`); the policy text of an upload, a simulation or a `candidate`
  must compile: the shipped policy is sent;
- the body `id` of `PUT /v1/accounts/{account_id}` must equal the path's;
- an amount may be no finer than its currency's minor unit, and at most 10^14 minor units
  (the currency of an event is the stored account's, which no request schema can see): a
  whole number below 10^10 is valid in every currency;
- `from` <= `to` (KPIs), a wish's `start` < `end`, ids unique within one list (invoices of
  an account, events of a batch, accounts of a decide batch).
"""
from __future__ import annotations

import json
import re
import os
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote

import schemathesis
import yaml

POLICY_TEXT = (Path(__file__).resolve().parents[2] / "policies" / "default.yaml").read_text("utf-8")
POLICY_DOC = json.loads(json.dumps(yaml.safe_load(POLICY_TEXT), default=str))   # dates as text: JSON-able
POLICY_TEXT_OPS = ("/v1/policies", "/v1/policies:simulate")


def _positive(case) -> bool:
    meta = case.meta
    return meta is not None and meta.generation.mode.is_positive


def _amount(value, positive: bool):
    try:
        whole = int(Decimal(str(value))) % 10 ** 10
    except (ArithmeticError, ValueError):
        return value
    return str(max(whole, 1) if positive else whole)


def _unique(items: list, key: str) -> None:
    seen = set()
    for i, item in enumerate(items):
        if isinstance(item, dict) and isinstance(item.get(key), str):
            if item[key] in seen:
                item[key] = f"{item[key]}~{i}"
            seen.add(item[key])


def _hours(wishes) -> None:
    for key in ("hours", "working_hours"):
        h = wishes.get(key) if isinstance(wishes, dict) else None
        if isinstance(h, dict) and isinstance(h.get("start"), str) and isinstance(h.get("end"), str):
            if h["start"] >= h["end"]:
                h["start"], h["end"] = "00:00", "23:59"


def _event(ev) -> None:
    if not isinstance(ev, dict):
        return
    if ev.get("amount") is not None:
        ev["amount"] = _amount(ev["amount"], True)
    for inst in ev.get("instalments") or []:
        if isinstance(inst, dict) and "amount" in inst:
            inst["amount"] = _amount(inst["amount"], True)
    _hours(ev.get("wishes"))


def _account(acct) -> None:
    if not isinstance(acct, dict):
        return
    invoices = acct.get("invoices") or []
    for inv in invoices:
        if isinstance(inv, dict) and "amount" in inv:
            inv["amount"] = _amount(inv["amount"], False)
    _unique(invoices, "id")


def _body(case) -> None:
    body, path = case.body, case.operation.path
    if path in POLICY_TEXT_OPS and case.method.upper() == "POST":
        case.body = POLICY_DOC
        return
    if not isinstance(body, dict):
        return
    if path == "/v1/accounts/{account_id}" and "id" in body:
        body["id"] = unquote(case.path_parameters["account_id"])     # it is percent-encoded here
    if isinstance(body.get("policy"), str):
        body["policy"] = os.environ["ARREARS_FUZZ_DIGEST"]
    if isinstance(body.get("candidate"), str):
        body["candidate"] = POLICY_TEXT
    _account(body)
    _event(body)
    _account(body.get("account"))
    for acct in body.get("accounts") or []:
        _account(acct)
    events = body.get("events") or []
    for ev in events:
        _event(ev)
    _unique(events, "id")
    items = body.get("items") or []
    for item in items:
        if isinstance(item, dict):
            _account(item.get("account"))
            for ev in item.get("events") or []:
                _event(ev)
            _unique(item.get("events") or [], "id")
    _unique([i.get("account") for i in items if isinstance(i, dict)], "id")


@schemathesis.hook
def map_case(context, case):
    """Positive cases only: bring them within the rules OpenAPI cannot express (see above)."""
    if not _positive(case):
        return case
    if case.query:
        case.query.pop("cursor", None)
        if isinstance(case.query.get("policy"), str):
            case.query["policy"] = os.environ["ARREARS_FUZZ_DIGEST"]
        start, end = case.query.get("from"), case.query.get("to")
        if isinstance(start, str) and isinstance(end, str) and start > end:
            case.query["from"], case.query["to"] = end, start
    _body(case)
    return case


# What the server says when a positive case breaks one of the rules above (the map cannot
# reach every case: the coverage phase rewrites some values after the hooks have run).
INEXPRESSIBLE = re.compile(
    r"must match the account id in the path|not a cursor this API issued|belongs to a list with other "
    r"filters|no stored policy version has digest|more decimal places than|larger than the largest amount|"
    r"beyond the largest amount|the period starts .* after it ends|start must be before end|"
    r"invoice ids must be unique|repeats (the account id of item|events\[|\[)|event id .* repeats")


@schemathesis.hook
def filter_failure(context, failure, case, response):
    """Keep every failure except a valid-data rejection whose problem document names only rules
    listed above (a 400 or 422 for one of them is the documented answer, not a drift).
    `ARREARS_FUZZ_STRICT=1` keeps those too, to see what `map_case` alone leaves."""
    if os.environ.get("ARREARS_FUZZ_STRICT") or type(failure).__name__ != "RejectedPositiveData" \
            or response.status_code not in (400, 422):
        return True
    try:
        problem = response.json()
    except ValueError:
        return True
    if problem.get("type") == "urn:arrears:problem:invalid-policy":
        return not (case.operation.path in POLICY_TEXT_OPS or "candidate" in (case.body or {}))
    if problem.get("type") == "urn:arrears:problem:invalid-experiment":
        # The experiment file's own JSON Schema (with the policy's conditions) is not in the
        # OpenAPI document, which says only "an object": a 422 naming its problems is the answer.
        return case.operation.path != "/v1/experiments"
    details = [e.get("detail", "") for e in problem.get("errors", [])] or [problem.get("detail", "")]
    return not all(INEXPRESSIBLE.search(d) for d in details)
