"""The OpenAPI document states the rules the server enforces (issue 12): one pattern for a date,
an instant, an amount, a time zone, a digest and a cursor, read by both the validators and the
document; every status an operation can answer, with the problem schema, its media type and
the headers it carries. (`test_api_schemathesis.py` checks the server against all of it.)"""
from __future__ import annotations

import re

import pytest

from arrears.engine.domain.model import DATE_PATTERN, INSTANT_PATTERN, TIMEZONES
from arrears.engine.domain.money import AMOUNT_PATTERN
from tests.api.apikit import account

PROBLEM = "application/problem+json"


def _problem(r, status):
    assert r.status_code == status, r.get_data(as_text=True)
    assert r.mimetype == PROBLEM
    return r.get_json()


def test_the_document_reads_the_engines_patterns(state):
    schemas = state.document["components"]["schemas"]
    invoice = schemas["Invoice"]["properties"]
    assert invoice["due_date"]["pattern"] == DATE_PATTERN
    assert schemas["Event"]["properties"]["at"]["pattern"] == INSTANT_PATTERN
    assert invoice["amount"]["anyOf"][0]["pattern"] == AMOUNT_PATTERN.replace("-?", "")
    zone = re.compile(schemas["TimeZone"]["pattern"])
    assert all(zone.fullmatch(z) for z in TIMEZONES) and not zone.fullmatch("localtime")
    assert not zone.fullmatch("Europe/Londo") and not zone.fullmatch("Etc/GMT+30")


def test_every_operation_states_its_error_statuses_and_headers(state):
    for path, methods in state.document["paths"].items():
        for method, op in methods.items():
            responses = op["responses"]
            assert "400" in responses, (method, path)
            keyed = op.get("security") != []
            for status in ("401", "403", "503") if keyed else ():
                assert responses[status]["content"].keys() == {PROBLEM}, (method, path, status)
            if keyed:
                assert responses["401"]["headers"]["WWW-Authenticate"]["required"] is True
                assert "Retry-After" in responses["503"]["headers"]
            if "requestBody" in op:
                assert {"413", "415", "422"} <= responses.keys(), (method, path)
            if "{" in path:
                assert "404" in responses, (method, path)
    ticks = state.document["paths"]["/v1/ticks"]["post"]["responses"]["202"]
    assert ticks["headers"]["Location"]["required"] is True
    events = state.document["paths"]["/v1/accounts/{account_id}/events"]["post"]["responses"]
    assert "Idempotent-Replayed" in events["201"]["headers"] and "409" in events


LISTS = ["/v1/decisions", "/v1/accounts/ACME-0042/events", "/v1/policies", "/v1/audit", "/v1/ticks"]
FORGED = ["abcd", "eyJrIjoxLCJmIjoiMDAwMCJ9", "eyJrIjpbMSwyXSwiZiI6ImZmZmZmZmZmZmZmZmZmZmYifQ"]


@pytest.mark.parametrize("path", LISTS)
def test_forged_cursors_are_400_and_documented(api, path):
    """Only cursors the server issued are valid: a well-formed made-up one is a 400 naming `cursor`,
    as the document says on every `cursor` parameter."""
    api.put("/v1/accounts/ACME-0042", account())
    for token in FORGED:
        doc = _problem(api.get(f"{path}?cursor={token}"), 400)
        assert doc["errors"][0]["parameter"] == "cursor"
    operation = api.state.document["paths"][path.replace("ACME-0042", "{account_id}")]["get"]
    cursor = next(p for p in operation["parameters"] if p["name"] == "cursor")
    assert "Only issued cursors are valid" in cursor["description"]
    assert "400" in operation["responses"]
