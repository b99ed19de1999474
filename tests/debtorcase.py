"""A debtor whose accounts straddle a page boundary, under a per-debtor call cap.

Debtor D1 has accounts A and C, stored first and third; B (debtor D2) sits between them,
so pages of two accounts in acct_no order put A and C in different pages. A was called
twice in the last 7 days and the cap allows two calls per debtor in 7 days: C may not be
called. Shared by the tick, simulation and replay tests (`tests/tick`, `tests/simulate`,
`tests/replay`); the same rule's worked example is in `tests/test_guardrail_examples.py`.
"""
from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from arrears.engine import Account, Event, load_policy
from arrears.policies import PROFILES_DIR

SYDNEY = "Australia/Sydney"
CAP_ID = "test.debtor-calls"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=ZoneInfo(SYDNEY)).astimezone(timezone.utc)   # Wednesday noon
CALLS = """
metadata: {name: calls, version: "1", default_timezone: Australia/Sydney}
aging:
  buckets: [{name: current, max_days: 0}, {name: late, min_days: 1}]
channels: {call: {kind: call}, review: {kind: task}}
templates: {t: {languages: [en]}}
escalation:
  stages:
    - {id: calls, days_past_due: 1, action: call, channels: [call], template: t, max_attempts: 60,
       repeat_every_days: 1}
    - {id: writeoff, days_past_due: 600, action: write_off, channels: [review], template: t, max_attempts: 1}
compliance: {profiles: [auto]}
"""
DEBTOR_CAP = f"""
id: test-debtor-cap
name: Per-debtor call cap (test)
applies_to:
  jurisdictions: [AU]
rules:
  - id: {CAP_ID}
    kind: frequency_cap
    channels: [call]
    max: 2
    window_days: 7
    counts: attempts
    scope: debtor
    source: test
"""


def cap_policy(tmp_path, scope: str = "debtor"):
    """The call policy with the shipped profiles plus the per-debtor (or per-account) cap."""
    profiles = tmp_path / f"profiles-{scope}"
    shutil.copytree(PROFILES_DIR, profiles)
    (profiles / "test-debtor-cap.yaml").write_text(DEBTOR_CAP.replace("scope: debtor", f"scope: {scope}"))
    return load_policy(CALLS, filename="calls.yaml", profiles_dir=profiles)


def account(account_id: str, debtor_id: str, due: str = "2026-10-01") -> Account:
    """An Australian consumer owing 800.00, reachable by phone."""
    return Account.from_dict({"id": account_id, "currency": "AUD", "jurisdiction": "AU-VIC",
                              "timezone": SYDNEY, "debtor_id": debtor_id,
                              "contact": {"phone": "+61355500100"},
                              "invoices": [{"id": "I1", "amount": "800.00", "due_date": due}]})


def call(at: datetime, outcome: str = "no_answer") -> Event:
    return Event.from_dict({"type": "contact_attempt", "at": at.isoformat(), "channel": "call",
                            "outcome": outcome, "stage": "calls"})


def straddling() -> tuple[list[Account], list[list[Event]]]:
    """A (D1, two calls in the last 3 days), B (D2), C (D1, no calls), in that order."""
    accounts = [account("A", "D1"), account("B", "D2"), account("C", "D1")]
    histories = [[call(NOW - timedelta(days=3)), call(NOW - timedelta(days=1))], [], []]
    return accounts, histories
