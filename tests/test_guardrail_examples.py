"""Worked examples for rules that otherwise rest on property tests alone: the Australian
Sunday window, per-debtor frequency caps, and the default policy's aging-bucket edges.

Each example states its expected instant or bucket by hand, from the rule's own figures.
"""
from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from arrears.engine import Account, Batch, Event, decide, decide_batch, load_policy
from arrears.policies import DEFAULT_POLICY, PROFILES_DIR

UTC = timezone.utc
SYDNEY = "Australia/Sydney"
CALLS = """
metadata: {name: calls, version: "1", default_timezone: Australia/Sydney}
aging:
  buckets: [{name: current, max_days: 0}, {name: late, min_days: 1}]
channels: {call: {kind: call}, review: {kind: task}}
templates: {t: {languages: [en]}}
escalation:
  stages:
    - {id: calls, days_past_due: 1, action: call, channels: [call], template: t, max_attempts: 60, repeat_every_days: 1}
    - {id: writeoff, days_past_due: 600, action: write_off, channels: [review], template: t, max_attempts: 1}
compliance: {profiles: [auto]}
"""


def local(tz, *args):
    return datetime(*args, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def account(account_id="A", jurisdiction="AU-VIC", **extra):
    data = {"id": account_id, "currency": "AUD", "jurisdiction": jurisdiction, "timezone": SYDNEY,
            "contact": {"phone": "+61355500100"},
            "invoices": [{"id": "I1", "amount": "800.00", "due_date": "2026-10-01"}]}
    data.update(extra)
    return Account.from_dict(data)


def ev(type_, at, **fields):
    return Event.from_dict({"type": type_, "at": at.isoformat(), **fields})


def started(at):
    return ev("contact_attempt", at, channel="call", outcome="queued", stage="calls")


# ---- Australia: phone contact 09:00-21:00 at weekends, 07:30-21:00 on weekdays ----------------------

@pytest.mark.parametrize("now, expected", [
    (local(SYDNEY, 2026, 11, 29, 8, 0), local(SYDNEY, 2026, 11, 29, 9, 0)),     # Sunday early: 09:00
    (local(SYDNEY, 2026, 11, 29, 9, 0), local(SYDNEY, 2026, 11, 29, 9, 0)),     # Sunday 09:00: now
    (local(SYDNEY, 2026, 11, 29, 20, 59), local(SYDNEY, 2026, 11, 29, 20, 59)),
    (local(SYDNEY, 2026, 11, 29, 21, 30), local(SYDNEY, 2026, 11, 30, 7, 30)),  # Sunday late: Monday
    (local(SYDNEY, 2026, 11, 30, 7, 0), local(SYDNEY, 2026, 11, 30, 7, 30)),    # Monday: 07:30
])
def test_australian_sunday_calls_keep_to_0900_2100(now, expected):
    policy = load_policy(CALLS, filename="calls.yaml")
    d = decide(account(), [started(now - timedelta(days=2))], policy, now)
    assert d.action is not None and d.action.not_before == expected


# ---- a frequency cap counted per debtor, across their accounts ----------------------------------------

DEBTOR_CAP = """
id: test-debtor-cap
name: Per-debtor call cap (test)
applies_to:
  jurisdictions: [AU]
rules:
  - id: test.debtor-calls
    kind: frequency_cap
    channels: [call]
    max: 2
    window_days: 7
    counts: attempts
    scope: debtor
    source: test
"""


@pytest.fixture
def debtor_cap_policy(tmp_path):
    profiles = tmp_path / "profiles"
    shutil.copytree(PROFILES_DIR, profiles)
    (profiles / "test-debtor-cap.yaml").write_text(DEBTOR_CAP)
    return load_policy(CALLS, filename="calls.yaml", profiles_dir=profiles)


def test_a_per_debtor_cap_counts_the_calls_on_all_their_accounts(debtor_cap_policy):
    now = local(SYDNEY, 2026, 11, 25, 12, 0)                    # Wednesday noon
    one, two = now - timedelta(days=3), now - timedelta(days=1)
    a = account("A", debtor_id="D1")
    b = account("B", debtor_id="D1")                            # the same debtor, no calls yet
    c = account("C", debtor_id="D2")                            # another debtor
    history_a = [started(one), ev("contact_attempt", one, channel="call", outcome="no_answer", stage="calls"),
                 ev("contact_attempt", two, channel="call", outcome="no_answer", stage="calls")]
    fresh = [started(now - timedelta(days=2))]
    db = decide_batch(Batch.from_objects([a, b, c], [history_a, fresh, fresh]), debtor_cap_policy, now)
    a_, b_, c_ = db.decisions()
    # Two calls to D1 in 7 days: neither of D1's accounts may call until the first ages out.
    assert a_.action is None and b_.action is None
    assert {s.rule: s.until for s in b_.suppressions}["test.debtor-calls"] == one + timedelta(days=7)
    assert c_.action is not None and c_.action.not_before == now


def test_a_per_account_cap_would_have_let_the_other_account_call(tmp_path):
    profiles = tmp_path / "profiles"
    shutil.copytree(PROFILES_DIR, profiles)
    (profiles / "test-debtor-cap.yaml").write_text(DEBTOR_CAP.replace("scope: debtor", "scope: account"))
    policy = load_policy(CALLS, filename="calls.yaml", profiles_dir=profiles)
    now = local(SYDNEY, 2026, 11, 25, 12, 0)
    one, two = now - timedelta(days=3), now - timedelta(days=1)
    history_a = [started(one), ev("contact_attempt", one, channel="call", outcome="no_answer", stage="calls"),
                 ev("contact_attempt", two, channel="call", outcome="no_answer", stage="calls")]
    db = decide_batch(Batch.from_objects([account("A", debtor_id="D1"), account("B", debtor_id="D1")],
                                         [history_a, [started(now - timedelta(days=2))]]), policy, now)
    a_, b_ = db.decisions()
    assert a_.action is None and b_.action is not None


# ---- the default policy's aging buckets at their edges --------------------------------------------------

@pytest.mark.parametrize("days_past_due, bucket", [
    (-5, "current"), (0, "current"), (1, "1-30"), (30, "1-30"), (31, "31-60"), (60, "31-60"),
    (61, "61-90"), (90, "61-90"), (91, "90+"), (400, "90+"),
])
def test_bucket_edges_of_the_default_policy(days_past_due, bucket):
    now = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)                # 15:00 in London, same date
    due = date(2026, 11, 22) - timedelta(days=days_past_due)
    acc = Account.from_dict({"id": "B", "currency": "GBP", "jurisdiction": "GB-ENG",
                             "timezone": "Europe/London", "contact": {"email": "b@example.com"},
                             "invoices": [{"id": "I1", "amount": "100.00", "due_date": due.isoformat()}]})
    d = decide(acc, [], load_policy(Path(DEFAULT_POLICY)), now)
    assert (d.days_past_due, d.bucket) == (days_past_due, bucket)
