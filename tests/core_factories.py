"""Factories for the core tests: the default policy document, a fixed `now`, accounts, events.

`make_account(**overrides)` builds an `Account` through `Account.from_dict`, so tests
exercise the same parsing path as the API. `ev(type, at, **fields)` builds an `Event`
the same way. (A module of its own, not conftest, so test modules can import it by a
name no other test directory uses.)
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import yaml

from arrears.engine.domain.model import Account, Event

POLICY_PATH = Path(__file__).resolve().parents[1] / "policies" / "default.yaml"
NOW = datetime(2026, 11, 22, 15, 0, 0, tzinfo=timezone.utc)
TODAY = date(2026, 11, 22)      # the local date of NOW in Europe/London


def default_policy_doc() -> dict:
    """A fresh copy of the shipped policy document (safe to mutate)."""
    with POLICY_PATH.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def without_house_hours(text: str) -> str:
    """Policy text without `compliance.contact_hours`: for tests that judge other things at the
    suite's NOW, a Sunday afternoon, when the shipped house hours contact no consumer."""
    doc = yaml.safe_load(text)
    doc["compliance"].pop("contact_hours", None)
    return yaml.safe_dump(doc, sort_keys=False)


def policy_doc_without_house_hours() -> dict:
    """`default_policy_doc()` without its house contact hours (see `without_house_hours`)."""
    doc = default_policy_doc()
    doc["compliance"].pop("contact_hours", None)
    return doc


def days_ago(n: int, base: date = TODAY) -> date:
    """The date `n` days before `base` (negative: after it)."""
    return base - timedelta(days=n)


def make_account(*, amount="1000.00", due_date="2026-11-01", **overrides) -> Account:
    """An account with sensible defaults; `amount`/`due_date` shape the single default invoice.

    Any key of the account JSON can be overridden (`invoices=[...]` replaces the invoice).
    """
    data = {
        "id": "A1",
        "currency": "EUR",
        "timezone": "Europe/London",
        "debtor_type": "consumer",
        "contact": {"email": "debtor@example.com", "address": "1 High Street",
                    "phone": "+441234567890", "mobile": "+447700900000"},
        "invoices": [{"id": "I1", "amount": str(amount), "due_date": str(due_date)}],
    }
    data.update(overrides)
    return Account.from_dict(data)


def ev(type: str, at, **fields) -> Event:
    """An event of `type` at `at` (aware datetime or RFC 3339 text); other fields as in JSON."""
    data = {"type": type, "at": at}
    for key, value in fields.items():
        data[key] = str(value) if key == "amount" else value
    return Event.from_dict(data)
