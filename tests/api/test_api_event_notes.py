"""Event notes over HTTP: recorded, read back from the history, bounded, part of idempotency."""
from __future__ import annotations

import pytest

from arrears.engine.domain.model import NOTE_MAX
from tests.api.apikit import AT, account

NOTE = {"type": "note", "at": "2026-11-20T10:00:00Z", "note": "Debtor asked for a call back after 14:00.\nUrgent."}
OUTCOME = {"type": "contact_outcome", "at": "2026-11-21T10:00:00Z", "channel": "call", "outcome": "conversation",
           "note": "Agreed £200 on Friday"}


@pytest.fixture
def stored(api):
    assert api.put("/v1/accounts/ACME-0042", account()).status_code == 201


def test_notes_are_recorded_and_read_back(api, stored):
    r = api.post("/v1/accounts/ACME-0042/events", {"events": [NOTE, OUTCOME]}, role="integrator")
    assert r.status_code == 201
    assert [e["note"] for e in r.get_json()["events"]] == [NOTE["note"], OUTCOME["note"]]
    history = api.get("/v1/accounts/ACME-0042/events", role="integrator").get_json()["items"]
    assert [(e["type"], e["note"]) for e in history] == [("note", NOTE["note"]), ("contact_outcome", OUTCOME["note"])]


def test_an_event_without_a_note_reads_back_null(api, stored):
    api.post("/v1/accounts/ACME-0042/events", {"type": "hold", "at": AT})
    [event] = api.get("/v1/accounts/ACME-0042/events").get_json()["items"]
    assert event["note"] is None


def test_an_agent_records_a_call_note(api, stored):
    r = api.post("/v1/accounts/ACME-0042/events", OUTCOME, role="agent", headers={"Idempotency-Key": "call-1"})
    assert r.status_code == 201 and r.get_json()["events"][0]["note"] == OUTCOME["note"]


def test_a_retry_with_another_note_is_a_conflict(api, stored, state):
    headers = {"Idempotency-Key": "note-1"}
    assert api.post("/v1/accounts/ACME-0042/events", NOTE, headers=headers).status_code == 201
    assert api.post("/v1/accounts/ACME-0042/events", NOTE, headers=headers).headers["Idempotent-Replayed"] == "true"
    r = api.post("/v1/accounts/ACME-0042/events", {**NOTE, "note": "something else"}, headers=headers)
    assert r.status_code == 409 and state.store.counts()["events"] == 1


@pytest.mark.parametrize("note, detail", [("n" * (NOTE_MAX + 1), "at most 2,000 characters"),
                                          ("tab\tok but bell \x07", "control characters"),
                                          ("   ", "non-empty")])
def test_a_bad_note_is_422_with_its_pointer_and_nothing_is_stored(api, stored, state, note, detail):
    r = api.post("/v1/accounts/ACME-0042/events", {"events": [NOTE, {**OUTCOME, "note": note}]})
    assert r.status_code == 422
    [error] = r.get_json()["errors"]
    assert error["pointer"] == "/events/1/note" and detail in error["detail"]
    assert state.store.counts()["events"] == 0


def test_the_document_states_the_bound(api):
    doc = api.get("/v1/openapi.json", role=None).get_json()
    note = doc["components"]["schemas"]["Event"]["properties"]["note"]["anyOf"][0]
    assert note["maxLength"] == NOTE_MAX
    assert "note" in doc["components"]["schemas"]["StoredEvent"]["properties"]


def test_notes_do_not_change_the_decision(api, stored):
    plain = {"type": "contact_attempt", "at": "2026-10-01T09:00:00Z", "channel": "email",
             "stage": "friendly_reminder", "outcome": "sent"}
    without = api.post("/v1/decide", {"account": account(), "events": [plain], "at": AT}).get_json()
    noted = api.post("/v1/decide", {"account": account(), "events": [{**plain, "note": "sent by hand"}, NOTE],
                                    "at": AT}).get_json()
    assert noted == without
