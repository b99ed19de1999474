"""Helpers for the simulation tests: a small policy, candidate edits of it, and a hand-built
portfolio whose decisions under each are known account by account.

At NOW (Sunday 2026-11-22 15:00 UTC), under `POLICY` (reminder from 1 day late by email
then letter; a call from 20 days for balances of 500 or more; a formal notice by letter
from 40 days; settlement offers from 60 days), with no jurisdiction (no guardrails):

| account | owes | late | history | decision |
|---|---|---|---|---|
| A1-EARLY | 1000 GBP | 5 | | reminder by email |
| A2-CALL | 1000 GBP | 25 | | call |
| A3-SMALL | 100 GBP | 25 | mobile known | reminder by email (call needs 500) |
| A4-LATE | 800 GBP | 45 | | formal notice by letter |
| A5-PROMISED | 2000 GBP | 25 | promise until 2026-12-01 | held by hold.promise |
| A6-PAID | 0 | | paid in full | nothing to collect |
| A7-OLD | 1000 EUR | 82 | | formal notice; settlement 700.00 (saves 300.00) |
| A8-NOPHONE | 1000 GBP | 25 | no phone | call due, no usable channel |
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from arrears.engine.domain.model import Account, Event

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 22, 15, 0, tzinfo=timezone.utc)
AT = "2026-11-22T15:00:00Z"

POLICY = """\
metadata:
  name: small
  version: "1"
  default_timezone: UTC
  default_language: en
aging:
  buckets:
    - {name: current, max_days: 0}
    - {name: "1-30", min_days: 1, max_days: 30}
    - {name: "31+", min_days: 31}
segments:
  consumer:
    when: {fact: debtor_type, eq: consumer}
priority:
  factors:
    balance: {weight: 1, scale: log, cap: "10000.00"}
channels:
  email: {kind: email}
  letter: {kind: letter}
  call: {kind: call}
templates:
  reminder: {languages: [en]}
  call_script: {languages: [en]}
  notice: {languages: [en]}
escalation:
  stages:
    - id: reminder
      days_past_due: 1
      action: reminder
      channels: [email, letter]
      template: reminder
      tone: friendly
      max_attempts: 1
    - id: call
      days_past_due: 20
      action: call
      channels: [call]
      template: call_script
      tone: neutral
      max_attempts: 1
      when: {fact: balance, gte: "500.00"}
    - id: notice
      days_past_due: 40
      action: formal_notice
      channels: [letter]
      template: notice
      tone: formal
      max_attempts: 1
grace:
  default_days: 0
incentives:
  settlement:
    discount_percent: 30
    floor_percent: 60
    floor: "100.00"
    min_days_past_due: 60
    valid_days: 14
    when: {segment: consumer}
compliance:
  profiles: [auto]
evaluation:
  max_interval_days: 7
"""


def edit(*pairs: tuple[str, str], version: str = "2") -> str:
    """`POLICY` with each (old, new) text replaced once (each must occur) and a new version."""
    text = POLICY.replace('version: "1"', f'version: "{version}"')
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


CALL_AT_30 = edit(("days_past_due: 20", "days_past_due: 30"))                  # moves a threshold
CALL_AT_3 = edit(("days_past_due: 20", "days_past_due: 3"))                    # more calls
GRACE_10 = edit(("default_days: 0", "default_days: 10"))                       # a longer grace
NO_SETTLEMENT = edit(("""incentives:
  settlement:
    discount_percent: 30
    floor_percent: 60
    floor: "100.00"
    min_days_past_due: 60
    valid_days: 14
    when: {segment: consumer}
""", ""))                                                                       # disables an incentive
WITH_SMS = edit(("  call: {kind: call}\n", "  call: {kind: call}\n  sms: {kind: sms}\n"),
                ("channels: [email, letter]", "channels: [sms, email, letter]"))  # adds a channel


def _account(account_id: str, amount: str, due: str, currency: str = "GBP", **contact) -> Account:
    details = {"email": f"{account_id.lower()}@example.com", "phone": "+441632960001",
               "address": "1 High Street", **contact}
    return Account.from_dict({
        "id": account_id, "currency": currency, "debtor_type": "consumer",
        "contact": {k: v for k, v in details.items() if v is not None},
        "invoices": [{"id": "I1", "amount": amount, "due_date": due}]})


def portfolio() -> tuple[list[Account], list[tuple[str, Event, None]]]:
    """The accounts of the table above, and their events as `append_events` takes them."""
    accounts = [
        _account("A1-EARLY", "1000.00", "2026-11-17"),
        _account("A2-CALL", "1000.00", "2026-10-28"),
        _account("A3-SMALL", "100.00", "2026-10-28", mobile="+447700900003"),
        _account("A4-LATE", "800.00", "2026-10-08"),
        _account("A5-PROMISED", "2000.00", "2026-10-28"),
        _account("A6-PAID", "500.00", "2026-10-28"),
        _account("A7-OLD", "1000.00", "2026-09-01", currency="EUR"),
        _account("A8-NOPHONE", "1000.00", "2026-10-28", phone=None),
    ]
    events = [
        ("A5-PROMISED", Event.from_dict({"type": "promise_to_pay", "at": "2026-11-20T10:00:00Z",
                                         "amount": "2000.00", "until": "2026-12-01"}), None),
        ("A6-PAID", Event.from_dict({"type": "payment", "at": "2026-11-01T10:00:00Z", "amount": "500.00",
                                     "invoice_id": "I1"}), None),
    ]
    return accounts, events


def fill(store) -> None:
    """Store the portfolio (as of NOW)."""
    accounts, events = portfolio()
    store.upsert_accounts(accounts, now=NOW)
    store.append_events(events, now=NOW)


def snapshot(store) -> tuple:
    """Everything a read-only operation must leave as it was: row counts, the audit head,
    and every account's bookkeeping (next_evaluation_at, decision key, revision)."""
    from sqlalchemy import text
    with store.engine.connect() as conn:
        accounts = conn.execute(text("SELECT * FROM accounts ORDER BY acct_no")).all()
        versions = conn.execute(text("SELECT * FROM policy_versions ORDER BY id")).all()
    audit = store.verify_audit()
    assert audit.ok
    return store.counts(), audit.entries, audit.head_hash, accounts, versions


