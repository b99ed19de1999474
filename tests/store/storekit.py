"""Helpers for the store tests: fixed times, a rich account and history, the bench portfolio."""
from __future__ import annotations

import importlib.util
from datetime import date, datetime, timezone
from pathlib import Path

from engine.model import Account, Event

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 11, 22)
NOW = datetime(2026, 11, 22, 15, 0, tzinfo=timezone.utc)
T0 = int(NOW.timestamp())     # a fixed "wall clock" for writes


def load_portfolio_module():
    """bench/portfolio.py (not a package), loaded by path."""
    spec = importlib.util.spec_from_file_location("arrears_bench_portfolio", ROOT / "bench" / "portfolio.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rich_account(account_id: str = "R-1") -> Account:
    """An account that sets every field to something other than its default."""
    return Account.from_dict({
        "id": account_id, "currency": "KWD", "debtor_type": "business", "jurisdiction": "GB-ENG",
        "timezone": "Europe/London", "language": "en", "tags": ["vip", "élan"], "risk_score": 0.37,
        "on_time_ratio": 0.5, "relationship_tier": "key", "account_manager": "Jo Bloggs",
        "debtor_id": "D-9", "other_timezones": ["Asia/Tokyo", "America/New_York"],
        "contact": {"email": "a@example.com", "phone": "+441234567890", "mobile": "+447700900000",
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
                         "instalments": [{"due_date": "2026-11-01", "amount": "2.5"},
                                         {"due_date": "2026-10-01", "amount": "2.625"}]}),
        Event.from_dict({"type": "dispute_opened", "at": "2026-09-12T10:00:00Z", "invoice_id": "NOPE"}),
    ]
