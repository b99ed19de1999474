"""The hand-computed portfolio of the KPI tests, and helpers to store it.

October 2026 (31 days, one month) is the period. Every account is in UTC except A5
(Sydney), whose payment at 2026-09-30T20:00Z is on 1 October there. Default policy:
buckets current (<= 0 days past due), 1-30, 31-60, 61-90, 90+; promises get 2 days'
tolerance. The expected figures are worked out by hand in test_kpis_portfolio.py.
"""
from __future__ import annotations

from datetime import date, datetime, timezone

from arrears.engine.domain.batch import epoch_day
from arrears.engine.domain.model import Account, Event

START, END = date(2026, 10, 1), date(2026, 10, 31)
START_DAY, END_DAY = epoch_day(START), epoch_day(END)
PERIOD_END = datetime(2026, 10, 31, 23, 0, tzinfo=timezone.utc)
RECORDED = datetime(2026, 11, 1, 8, 0, tzinfo=timezone.utc)      # wall clock of the writes
COSTS = {"GBP": {"email": "0.02", "sms": "0.05", "letter": "0.90", "call": "2.50", "fixed_per_month": "10.00"}}


CONTACT = {"email": "debtor@example.com", "phone": "+441632960001", "address": "1 High Street, Town"}


def _inv(iid, amount, issued, due):
    return {"id": iid, "amount": amount, "issued_date": issued, "due_date": due}


ACCOUNTS = [
    {"id": "A1", "currency": "GBP", "timezone": "UTC", "debtor_type": "consumer", "contact": CONTACT,
     "invoices": [_inv("A1-1", "1000.00", "2026-08-01", "2026-08-31"),
                  _inv("A1-2", "500.00", "2026-10-05", "2026-11-04")]},
    {"id": "A2", "contact": CONTACT, "currency": "GBP", "timezone": "UTC", "debtor_type": "consumer",
     "invoices": [_inv("A2-1", "400.00", "2026-09-01", "2026-09-20")]},
    {"id": "A3", "contact": CONTACT, "currency": "GBP", "timezone": "UTC", "debtor_type": "business",
     "risk_score": 0.8,
     "invoices": [_inv("A3-1", "2000.00", "2026-06-01", "2026-07-01")]},
    {"id": "A4", "contact": CONTACT, "currency": "GBP", "timezone": "UTC", "debtor_type": "business",
     "on_time_ratio": 0.97,
     "invoices": [_inv("A4-1", "3000.00", "2026-09-15", "2026-10-15")]},
    {"id": "A5", "contact": CONTACT, "currency": "GBP", "timezone": "Australia/Sydney", "debtor_type": "consumer",
     "invoices": [_inv("A5-1", "100.00", "2026-09-01", "2026-09-10")]},
    {"id": "A6", "contact": CONTACT, "currency": "EUR", "timezone": "UTC", "debtor_type": "consumer",
     "invoices": [_inv("A6-1", "800.00", "2026-10-01", "2026-10-31")]},
    {"id": "A7", "contact": CONTACT, "currency": "GBP", "timezone": "UTC", "debtor_type": "consumer",
     "invoices": [_inv("A7-1", "200.00", "2026-07-01", "2026-07-31")]},
    {"id": "A8", "contact": CONTACT, "currency": "GBP", "timezone": "UTC", "debtor_type": "business",
     "invoices": [_inv("A8-1", "300.00", "2026-07-01", "2026-08-01"),
                  _inv("A8-2", "200.00", "2026-09-20", "2026-10-20")]},
]


def _ev(type_, at, **fields):
    return {"type": type_, "at": at, **fields}


EVENTS = {
    "A1": [_ev("contact_attempt", "2026-10-02T09:00:00Z", channel="email", outcome="sent",
               stage="friendly_reminder"),
           _ev("contact_outcome", "2026-10-02T09:05:00Z", channel="email", outcome="delivered"),
           _ev("contact_attempt", "2026-10-03T09:00:00Z", channel="call", outcome="queued"),
           _ev("contact_outcome", "2026-10-03T11:00:00Z", channel="call", outcome="conversation"),
           _ev("promise_to_pay", "2026-10-03T11:05:00Z", amount="200.00", until="2026-10-09"),
           _ev("payment", "2026-10-10T12:00:00Z", amount="300.00")],
    "A2": [_ev("contact_attempt", "2026-10-01T09:00:00Z", channel="sms", outcome="sent"),
           _ev("contact_attempt", "2026-10-01T09:01:00Z", channel="email", outcome="failed"),
           _ev("promise_to_pay", "2026-10-05T10:00:00Z", amount="400.00", until="2026-10-12"),
           _ev("payment", "2026-10-15T10:00:00Z", amount="400.00")],
    "A3": [_ev("contact_attempt", "2026-10-05T09:00:00Z", channel="letter", outcome="sent"),
           _ev("write_off", "2026-10-20T10:00:00Z", amount="1500.00"),
           _ev("payment", "2026-10-25T10:00:00Z", amount="100.00")],
    "A4": [_ev("contact_attempt", "2026-10-16T09:00:00Z", channel="call", outcome="queued"),
           _ev("contact_outcome", "2026-10-16T10:00:00Z", channel="call", outcome="no_answer"),
           _ev("contact_outcome", "2026-10-17T10:00:00Z", channel="call", outcome="wrong_party"),
           _ev("payment", "2026-10-20T10:00:00Z", amount="1000.00", invoice_id="A4-1")],
    "A5": [_ev("payment", "2026-09-30T20:00:00Z", amount="100.00")],
    "A6": [_ev("credit_note", "2026-10-10T10:00:00Z", amount="100.00")],
    "A7": [_ev("payment", "2026-08-15T10:00:00Z", amount="200.00")],
    "A8": [_ev("dispute_opened", "2026-08-10T10:00:00Z", invoice_id="A8-1")],
}


def accounts() -> list[Account]:
    """The portfolio's accounts."""
    return [Account.from_dict(a) for a in ACCOUNTS]


def histories() -> list[list[Event]]:
    """One parsed history per account, in ACCOUNTS order."""
    return [[Event.from_dict(e) for e in EVENTS.get(a["id"], [])] for a in ACCOUNTS]


def load(store) -> None:
    """Store the portfolio (accounts, then every account's history)."""
    store.upsert_accounts(accounts(), now=RECORDED)
    pairs = [(a.id, e, None) for a, hist in zip(accounts(), histories()) for e in hist]
    store.append_events(pairs, now=RECORDED)
