"""Wishes and representatives in the store: imported with rejects, covered by the audit chain."""
from __future__ import annotations

import json

import pytest

from arrears.engine.domain.model import Account, Event
from arrears.engine.store.importing import import_file
from tests.store.storekit import T0, append_pre_0004

pytestmark = pytest.mark.also_postgresql

AT = "2026-11-20T10:00:00Z"
WISHES = {"channels": ["letter"], "language": "fr"}
REP = {"name": "Ana Law", "email": "ana@law.example"}


def _cell(obj) -> str:
    return '"' + json.dumps(obj).replace('"', '""') + '"'


def test_wishes_and_representatives_are_imported_from_csv_with_rejects(store, tmp_path):
    store.upsert_accounts([Account("A", "EUR")], now=T0)
    csv_file = tmp_path / "events.csv"
    csv_file.write_text("account_id,type,at,wishes,representative,event_key\n"
                        f"A,contact_preference,{AT},{_cell(WISHES)},,w1\n"
                        f"A,represented,{AT},,{_cell(REP)},r1\n"
                        f"A,contact_preference,{AT},{_cell({'days': ['someday']})},,w2\n"
                        f"A,represented,{AT},,{{not json,r2\n", encoding="utf-8")
    result = import_file(store, csv_file)
    assert result.stored == 2
    assert [r.line for r in result.rejects] == [4, 5]
    assert "someday" in result.rejects[0].reason and "JSON object" in result.rejects[1].reason
    _, events = store.get_account("A")
    assert [e.wishes.to_dict() if e.wishes else e.representative.to_dict() for e in events] == [WISHES, REP]


def test_the_audit_chain_covers_the_detail_and_older_events_still_verify(store):
    store.upsert_accounts([Account("A", "EUR")], now=T0)
    append_pre_0004(store, "A", Event.from_dict({"type": "note", "at": AT}), "old", T0)
    store.append_events([("A", Event.from_dict({"type": "contact_preference", "at": AT, "wishes": WISHES}),
                          "new")], now=T0 + 1)
    assert store.verify_audit().ok
    with store.engine.begin() as conn:
        conn.exec_driver_sql("""UPDATE events SET detail = '{"channels":["email"]}' WHERE event_key = 'new'""")
    assert not store.verify_audit().ok
