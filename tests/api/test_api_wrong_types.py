"""Wrong-typed values are 422 naming the field, never silently coerced (issue 12).

`"instalments": {}` (or `""`, `0`, `false`) and `"tags": {}` used to be stored as `[]`;
dates, instants and amounts in forms Python happens to parse (`20261001`, `2026-W40-1`,
`1E+3`, ` 12.5`) used to be accepted although the OpenAPI document does not allow them.
Each case goes through the API and checks the problem document's pointer, and that
nothing was stored.
"""
from __future__ import annotations

from urllib.parse import urlencode

import pytest

from arrears.engine.domain.errors import InputError
from arrears.engine.domain.model import Account, Event, parse_date, parse_instant
from tests.api.apikit import account

AT = "2026-11-22T15:00:00Z"
WRONG_LISTS = [{}, "", 0, False, "x", {"due_date": "2026-12-01", "amount": "1"}]


def _problem(r, status=422):
    assert r.status_code == status, r.get_data(as_text=True)
    assert r.mimetype == "application/problem+json"
    return r.get_json()


@pytest.mark.parametrize("value", WRONG_LISTS, ids=repr)
@pytest.mark.parametrize("etype", ["payment_plan", "hold"])
def test_instalments_of_the_wrong_type_are_422(api, state, etype, value):
    api.put("/v1/accounts/ACME-0042", account())
    before = state.store.counts()["events"]
    r = api.post("/v1/accounts/ACME-0042/events", {"type": etype, "at": AT, "instalments": value})
    doc = _problem(r)
    assert doc["errors"][0]["pointer"] == "/instalments"
    assert state.store.counts()["events"] == before


@pytest.mark.parametrize("value", WRONG_LISTS, ids=repr)
@pytest.mark.parametrize("field", ["tags", "invoices", "other_timezones"])
def test_account_lists_of_the_wrong_type_are_422(api, state, field, value):
    doc = _problem(api.put("/v1/accounts/ACME-0042", account(**{field: value})))
    assert doc["errors"][0]["pointer"] == f"/{field}"
    assert state.store.counts()["accounts"] == 0


@pytest.mark.parametrize("value", WRONG_LISTS, ids=repr)
def test_preferred_channels_of_the_wrong_type_are_422(api, value):
    doc = _problem(api.put("/v1/accounts/ACME-0042", account(contact={"preferred_channels": value})))
    assert doc["errors"][0]["pointer"] == "/contact/preferred_channels"


def test_null_lists_mean_none(api):
    """null is documented (nullable) and means the same as leaving the list out."""
    r = api.put("/v1/accounts/ACME-0042", account(tags=None, other_timezones=None))
    assert r.status_code == 201
    assert r.get_json()["account"]["tags"] == []


@pytest.mark.parametrize("field, value", [
    ("risk_score", True), ("risk_score", "0.5"), ("on_time_ratio", False), ("currency", 978),
    ("timezone", "Mars/Olympus"), ("timezone", "localtime"), ("timezone", 0), ("debtor_type", True),
    ("language", 7), ("id", 42),
])
def test_other_account_fields_of_the_wrong_type_are_422(api, field, value):
    doc = _problem(api.put("/v1/accounts/ACME-0042", account(**{field: value})))
    assert doc["errors"][0]["pointer"] == f"/{field}"


@pytest.mark.parametrize("amount", [True, "1E+3", " 12.50", "12.5\n", "1_000", ".5", "5.", "+5", "١٢"],
                         ids=repr)
def test_amounts_only_as_documented(api, amount):
    bad = account(invoices=[{"id": "I", "amount": amount, "due_date": "2026-10-01"}])
    doc = _problem(api.put("/v1/accounts/ACME-0042", bad))
    assert doc["errors"][0]["pointer"] == "/invoices/0/amount"


@pytest.mark.parametrize("day", ["20261001", "2026-W40-1", "2026-10-1", " 2026-10-01", "2026-10-01\n",
                                 "2200-01-01", "1899-12-31", 20261001], ids=repr)
def test_dates_only_as_yyyy_mm_dd(api, day):
    bad = account(invoices=[{"id": "I", "amount": "1", "due_date": day}])
    doc = _problem(api.put("/v1/accounts/ACME-0042", bad))
    assert doc["errors"][0]["pointer"] == "/invoices/0/due_date"


@pytest.mark.parametrize("at", ["20261122T150000Z", "2026-11-22 15:00:00Z", "2026-11-22T15:00Z",
                                "2026-11-22T15:00:00,5Z", "2026-11-22T15:00:00+0100", "2026-11-22T15:00:00.1234567Z",
                                "1969-12-31T23:59:59Z", "2200-01-01T00:00:00Z", "2026-02-30T00:00:00Z", 1763823600,
                                True], ids=repr)
def test_instants_only_as_rfc_3339_within_range(api, at):
    api.put("/v1/accounts/ACME-0042", account())
    doc = _problem(api.post("/v1/accounts/ACME-0042/events", {"type": "note", "at": at}))
    assert doc["errors"][0]["pointer"] == "/at"
    r = api.get(f"/v1/accounts/ACME-0042/decision?{urlencode({'at': str(at)})}")
    assert _problem(r, 400)["errors"][0]["parameter"] == "at"


@pytest.mark.parametrize("at", ["1970-01-01T00:00:00+01:00", "2199-12-31T23:59:59-05:00",
                                "2026-11-22T15:00:00.123456+05:30"])
def test_instants_at_the_edges_of_the_documented_range_are_accepted(api, at):
    api.put("/v1/accounts/ACME-0042", account())
    assert api.post("/v1/accounts/ACME-0042/events", {"type": "note", "at": at}).status_code == 201


def test_the_engine_parsers_are_the_one_home():
    """The same refusals without the API (import, CLI): the rule lives in the engine's parsers."""
    with pytest.raises(InputError, match="list"):
        Event.from_dict({"type": "payment_plan", "at": AT, "instalments": {}})
    with pytest.raises(InputError, match="list"):
        Account.from_dict({"id": "A", "currency": "EUR", "tags": {}})
    with pytest.raises(InputError):
        parse_date("20261001", "d")
    with pytest.raises(InputError):
        parse_instant("2026-11-22T15:00Z", "t")

