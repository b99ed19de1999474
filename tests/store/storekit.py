"""Helpers for the store tests: fixed times, a rich account and history, the bench portfolio."""
from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

from arrears.engine.domain.model import Account, Event

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 11, 22)
NOW = datetime(2026, 11, 22, 15, 0, tzinfo=timezone.utc)
T0 = int(NOW.timestamp())     # a fixed "wall clock" for writes


def rich_account(account_id: str = "R-1") -> Account:
    """An account that sets every field to something other than its default."""
    return Account.from_dict({
        "id": account_id, "currency": "KWD", "debtor_type": "business", "jurisdiction": "GB-ENG",
        "timezone": "Europe/London", "language": "en", "tags": ["vip", "élan"], "risk_score": 0.37,
        "on_time_ratio": 0.5, "relationship_tier": "key", "account_manager": "Jo Bloggs",
        "debtor_id": "D-9", "other_timezones": ["Asia/Tokyo", "America/New_York"],
        "contact": {"name": "Zoë \"Z\" O'Brien \\ Jr", "email": "a@example.com", "phone": "+441234567890",
                    "mobile": "+447700900000",
                    "address": '1 "Quoted" Street, \\ Town', "preferred_channels": ["sms", "email"]},
        "invoices": [{"id": "I-2", "amount": "10.125", "due_date": "2026-09-01",
                      "issued_date": "2026-08-01"},
                     {"id": "I-1", "amount": "0.001", "due_date": "2026-09-01"}],
    })


def rich_history() -> list[Event]:
    """Events covering every Event field, including a payment plan."""
    return [
        Event.from_dict({"type": "payment", "at": "2026-09-10T10:00:00Z", "amount": "5.5",
                         "invoice_id": "I-2", "id": "psp-1"}),
        Event.from_dict({"type": "contact_attempt", "at": "2026-09-11T09:00:00+02:00", "channel": "email",
                         "stage": "friendly_reminder", "outcome": "sent"}),
        Event.from_dict({"type": "payment_plan", "at": "2026-09-12T10:00:00Z", "id": "plan-1",
                         "amount": "1.000", "invoice_id": "I-1", "channel": "call", "stage": "personal_call",
                         "outcome": "conversation", "until": "2026-12-31",
                         "note": "Agreed by phone with Ms Rossi:\n2 instalments, café receipt ✓",
                         "instalments": [{"due_date": "2026-11-01", "amount": "2.5"},
                                         {"due_date": "2026-10-01", "amount": "2.625"}]}),
        Event.from_dict({"type": "dispute_opened", "at": "2026-09-12T10:00:00Z", "invoice_id": "NOPE"}),
        Event.from_dict({"type": "represented", "at": "2026-09-13T10:00:00Z",
                         "representative": {"name": "Ana Müller", "firm": "Müller & \"Partner\"",
                                            "email": "ana@mueller.example", "phone": "+44 20 7946 0000",
                                            "address": "2 Law Lane\nLondon"}}),
        Event.from_dict({"type": "contact_preference", "at": "2026-09-14T10:00:00Z", "until": "2027-01-31",
                         "wishes": {"hours": {"start": "18:00", "end": "20:30"}, "days": ["sat", "mon"],
                                    "channels": ["letter", "email"], "no_contact_at_work": True,
                                    "working_hours": {"start": "08:00", "end": "16:00"}, "language": "fr"}}),
    ]


def append_pre_0004(store, account_id: str, event: Event, key: str | None, now: int) -> None:
    """Append one event as the store did before schema revision 0004 (no `note` column),
    for databases that stand for an older installation. Same audit entry and digest."""
    from arrears.engine.store import audit
    from arrears.engine.store.codec import EVENT_INSERT_COLUMNS, event_values
    from arrears.engine.store.db import bulk_insert
    from arrears.engine.store.ingest import lookup
    from arrears.engine.store.schema import accounts, events

    assert event.note is None, "events stored before 0004 had no note"
    with store.transaction(now=now) as w:
        acct_no, currency = lookup(w.conn, [account_id], accounts.c.acct_no, accounts.c.currency)[account_id]
        row = (acct_no, *event_values(event, currency), key, now)     # note None: the old digest line
        digest = audit.EventDigest()
        digest.add(row)
        seq = audit.append(w.conn, audit.EVENTS_APPENDED, "events",
                           {"stored": 1, "duplicates": 0, "accounts": 1, "events_sha256": digest.hexdigest(),
                            "types": {event.type: 1}}, now)
        old = [c for c in EVENT_INSERT_COLUMNS if c not in ("note", "detail")]   # 0004's and 0005's
        values = dict(zip(EVENT_INSERT_COLUMNS, (*row, seq)))
        bulk_insert(w.conn, events, tuple(old), [tuple(values[c] for c in old)])


def upsert_before_seals(store, accounts: list[Account], now: int) -> None:
    """Store new accounts as the store did before schema revision 0010 (no seals), for
    databases that stand for an older installation. Same audit entry shape."""
    from arrears.engine.store import audit
    from arrears.engine.store.codec import INVOICE_COLUMNS, account_row
    from arrears.engine.store.db import bulk_insert
    from arrears.engine.store.ingest import lookup
    from arrears.engine.store.schema import accounts as accounts_t
    from arrears.engine.store.schema import invoices

    with store.transaction(now=now) as w:
        ids = sorted(acc.id for acc in accounts)
        seq = audit.append(w.conn, "accounts.upserted", "accounts",
                           {"inserted": len(ids), "updated": 0, "unchanged": 0, "ids": ids}, now)
        state = {"created_at": now, "updated_at": now, "changed_at": now, "revision": 1,
                 "next_evaluation_at": None, "evaluated_revision": 0, "audit_seq": seq}
        for acc in accounts:
            row, invs = account_row(acc)
            bulk_insert(w.conn, accounts_t, (*row, *state), [(*row.values(), *state.values())])
            acct_no = lookup(w.conn, [acc.id])[acc.id]
            bulk_insert(w.conn, invoices, ("acct_no", *INVOICE_COLUMNS), [(acct_no, *inv) for inv in invs])


# Indexes on an expression, made by a migration for both databases but not declared in schema.py
# (SQLAlchemy cannot declare one expression for both dialects); each test checks them itself.
EXPRESSION_INDEXES = ("ix_accounts_email",)


def schema_diff(conn) -> list:
    """What alembic finds between the database on `conn` and schema.py's metadata, but for the
    expression indexes (which SQLite's reflection skips, with a warning, and PostgreSQL's reports
    as indexes schema.py lacks)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from arrears.engine.store.schema import metadata
    return [d for d in compare_metadata(MigrationContext.configure(conn), metadata)
            if not (d[0] == "remove_index" and d[1].name in EXPRESSION_INDEXES)]
