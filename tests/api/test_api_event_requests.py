"""Wishes and representatives over HTTP: validated on arrival (problem documents), read back, decided on."""
from __future__ import annotations

import pytest

from tests.api.apikit import AT, account

WISH = {"type": "contact_preference", "at": "2026-11-20T10:00:00Z", "until": "2027-03-31",
        "wishes": {"hours": {"start": "18:00", "end": "20:00"}, "days": ["mon", "tue"], "language": "fr"}}
REP = {"type": "represented", "at": "2026-11-20T11:00:00Z",
       "representative": {"name": "Ana Law", "firm": "Law & Co", "email": "ana@law.example"}}


@pytest.fixture
def stored(api):
    assert api.put("/v1/accounts/ACME-0042", account()).status_code == 201


def test_wishes_and_a_representative_are_recorded_and_read_back(api, stored):
    r = api.post("/v1/accounts/ACME-0042/events", {"events": [WISH, REP]}, role="integrator")
    assert r.status_code == 201
    history = api.get("/v1/accounts/ACME-0042/events", role="integrator").get_json()["items"]
    assert [(e["wishes"], e["representative"]) for e in history] == [
        (WISH["wishes"], None), (None, REP["representative"])]


@pytest.mark.parametrize("event, pointer, detail", [
    ({**WISH, "wishes": {"hours": {"start": "20:00", "end": "18:00"}}}, "/events/1/wishes/hours",
     "start must be before end"),
    ({**WISH, "wishes": {"days": ["someday"]}}, "/events/1/wishes/days/0", "someday"),
    ({**REP, "representative": {"firm": "Law & Co"}}, "/events/1/representative/name", "required"),
    ({**REP, "representative": {"name": "Ana", "email": "not an address"}},
     "/events/1/representative/email", "email address"),
    ({**REP, "representative": {"name": "Ana", "phone": "call me"}}, "/events/1/representative/phone",
     "phone number"),
    ({"type": "hold", "at": AT, "wishes": {"language": "fr"}}, "/events/1/wishes", "contact_preference"),
])
def test_a_bad_detail_is_422_with_its_pointer_and_nothing_is_stored(api, stored, state, event, pointer, detail):
    r = api.post("/v1/accounts/ACME-0042/events", {"events": [WISH, event]})
    assert r.status_code == 422
    [error] = r.get_json()["errors"]
    assert error["pointer"] == pointer and detail in error["detail"]
    assert state.store.counts()["events"] == 0


def test_the_document_describes_both(api):
    schemas = api.get("/v1/openapi.json", role=None).get_json()["components"]["schemas"]
    assert set(schemas["Wishes"]["properties"]) == {"hours", "days", "channels", "no_contact_at_work",
                                                    "working_hours", "language"}
    assert schemas["Representative"]["required"] == ["name"]


def test_wishes_change_the_decision(api):
    plain = api.post("/v1/decide", {"account": account(), "events": [], "at": AT}).get_json()
    wished = api.post("/v1/decide", {"account": account(), "events": [WISH], "at": AT}).get_json()
    assert plain != wished
    assert any(s["rule"] == "debtor.wishes" for s in wished["suppressions"]) or \
        wished["action"]["language"] == "fr"
