"""Text carrying U+0000 (NUL) is bad input, never a server error, on either database.

PostgreSQL cannot store NUL in text and its driver refuses such a value outright; the
store turns that into an InputError (422). SQLite stores it like any other character.
"""
from __future__ import annotations

import pytest

from tests.api.apikit import account

pytestmark = pytest.mark.also_postgresql

EVENT = {"type": "payment", "at": "2026-11-20T10:00:00Z", "amount": "1.00"}
REQUESTS = [
    ("PUT", "/v1/accounts/N%00", account(id="N\x00")),
    ("PUT", "/v1/accounts/ACME-0042", account(account_manager="Jo\x00")),
    ("POST", "/v1/accounts:batch", {"accounts": [account(id="B\x00")]}),
    ("POST", "/v1/accounts/ACME-0042/events", {**EVENT, "id": "psp\x00"}),
    ("GET", "/v1/accounts/ACME-0042%00", None),
    ("GET", "/v1/accounts/ACME-0042%00/events", None),
    ("GET", "/v1/decisions?stage=x%00", None),
    ("GET", "/v1/decisions?bucket=x%00", None),
    ("GET", "/v1/audit?account_id=x%00", None),
]


def test_nul_in_text_is_never_a_server_error(api, db_url):
    assert api.put("/v1/accounts/ACME-0042", account()).status_code == 201
    pg = db_url.startswith("postgresql")
    wrong = []
    for method, path, body in REQUESTS:
        r = api.request(method, path, json_body=body)      # checked against the OpenAPI document too
        if r.status_code >= 500 or (pg and not (r.status_code == 422 and "U+0000" in r.get_json()["detail"])):
            wrong.append((method, path, r.status_code, r.get_data(as_text=True)[:200]))
    assert wrong == []
