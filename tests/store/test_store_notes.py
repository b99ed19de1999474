"""An event's free-text `note`: parsed and bounded, stored, covered by the audit chain,
imported from files, and never part of a decision."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

import pytest

from arrears.engine.decisions.core import decide
from arrears.engine.domain.errors import InputError
from arrears.engine.domain.model import NOTE_MAX, Account, Event
from arrears.engine.policy.load import load_policy
from arrears.engine.store.importing import import_file
from arrears.policies import DEFAULT_POLICY
from tests.store.storekit import T0, append_pre_0004

pytestmark = pytest.mark.also_postgresql

AT = "2026-11-20T10:00:00Z"
CALL = "Spoke to the debtor's bookkeeper:\n\tpayment run on Friday — €500 promised"


def note_event(**extra) -> Event:
    return Event.from_dict({"type": "note", "at": AT, "note": CALL, **extra})


def test_a_note_is_kept_on_note_events_and_on_other_types():
    assert note_event().note == CALL
    outcome = Event.from_dict({"type": "contact_outcome", "at": AT, "channel": "call", "outcome": "conversation",
                               "note": "wants an instalment plan"})
    assert outcome.note == "wants an instalment plan"
    assert Event.from_dict({"type": "note", "at": AT}).note is None      # optional, even on a note
    assert note_event(note="x" * NOTE_MAX).note == "x" * NOTE_MAX


@pytest.mark.parametrize("note, message", [
    ("x" * (NOTE_MAX + 1), "must be at most 2,000 characters, got 2,001"),
    ("", "expected a non-empty string"), ("  \n ", "expected a non-empty string"),
    (42, "expected a non-empty string"), (["a"], "expected a non-empty string"),
    ("bell\x07", "must not contain control characters (U+0007 at character 5)"),
    ("nul\x00", "U+0000"), ("esc \x1b[31m", "U+001B"),
])
def test_a_bad_note_is_refused_naming_the_field(note, message):
    with pytest.raises(InputError) as exc:
        Event.from_dict({"type": "payment", "at": AT, "amount": "5", "note": note}, "events[3]")
    assert exc.value.where == "events[3].note" and message in str(exc.value)


def test_notes_round_trip_through_the_store(store):
    store.upsert_accounts([Account("A", "EUR")], now=T0)
    history = [note_event(), Event.from_dict({"type": "payment", "at": "2026-11-21T09:00:00Z", "amount": "5",
                                              "note": "paid at the counter"}),
               Event.from_dict({"type": "hold", "at": "2026-11-21T10:00:00Z"})]
    store.append_events([("A", e, None) for e in history], now=T0)
    _, events = store.get_account("A")
    assert events == history and [e.note for e in events] == [CALL, "paid at the counter", None]
    assert store.verify_audit().ok


def test_the_audit_chain_covers_notes_and_still_verifies_older_events(store):
    store.upsert_accounts([Account("A", "EUR")], now=T0)
    append_pre_0004(store, "A", Event.from_dict({"type": "note", "at": AT}), "old", T0)   # before 0004
    store.append_events([("A", note_event(), "new")], now=T0 + 1)
    assert store.verify_audit().ok
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE events SET note = 'rewritten' WHERE event_key = 'new'")
    check = store.verify_audit()
    assert not check.ok and "changed" in check.reason


def test_adding_a_note_afterwards_to_an_older_event_is_detected(store):
    store.upsert_accounts([Account("A", "EUR")], now=T0)
    append_pre_0004(store, "A", Event.from_dict({"type": "note", "at": AT}), "old", T0)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE events SET note = 'slipped in' WHERE event_key = 'old'")
    assert not store.verify_audit().ok


def test_notes_are_imported_from_csv_and_jsonl(store, tmp_path):
    store.upsert_accounts([Account("A", "EUR")], now=T0)
    csv_file = tmp_path / "events.csv"
    csv_file.write_text('account_id,type,at,note,event_key\n'
                        f'A,note,{AT},"Called, no answer; ""try again"" Monday",n1\n'
                        f'A,note,{AT},{"y" * (NOTE_MAX + 1)},n2\n', encoding="utf-8")
    result = import_file(store, csv_file)
    assert result.stored == 1 and [(r.line, r.reason) for r in result.rejects] == [
        (3, "note: must be at most 2,000 characters, got 2,001")]
    jsonl = tmp_path / "events.jsonl"
    jsonl.write_text('{"account_id": "A", "type": "contact_outcome", "at": "2026-11-21T10:00:00Z", '
                     '"channel": "call", "outcome": "conversation", "note": "agreed to pay \\u20ac50"}\n',
                     encoding="utf-8")
    assert import_file(store, jsonl).stored == 1
    _, events = store.get_account("A")
    assert [e.note for e in events] == ['Called, no answer; "try again" Monday', "agreed to pay €50"]


def test_a_note_never_changes_a_decision():
    policy = load_policy(DEFAULT_POLICY)
    account = Account.from_dict({"id": "A", "currency": "GBP", "jurisdiction": "GB-ENG",
                                 "timezone": "Europe/London", "contact": {"email": "a@example.com"},
                                 "invoices": [{"id": "I1", "amount": "900.00", "due_date": "2026-10-01"}]})
    plain = [Event.from_dict({"type": "contact_attempt", "at": "2026-10-20T09:00:00Z", "channel": "email",
                              "stage": "friendly_reminder", "outcome": "sent"}),
             Event.from_dict({"type": "note", "at": "2026-10-21T09:00:00Z"})]
    noted = [dataclasses.replace(e, note=f"remark {i}: promised to pay, wait") for i, e in enumerate(plain)]
    now = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
    assert decide(account, noted, policy, now).to_dict() == decide(account, plain, policy, now).to_dict()
