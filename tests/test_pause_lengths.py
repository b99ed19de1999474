"""How long a hardship pause lasts when the policy and a jurisdiction profile both set a length.

A profile's `hardship_pause` may only lengthen the policy's `grace.hardship_extension_days`
(AU: 42 days, UK forbearance: 30), never shorten it, and a policy that leaves the pause
open-ended (no `hardship_extension_days`) keeps it open-ended everywhere.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

import yaml

from arrears.engine import Batch, decide, decide_batch, load_policy
from tests.core_factories import NOW, days_ago, default_policy_doc, ev, make_account

STARTED = days_ago(10)                      # 2026-11-12, ten days before NOW


def _policy(hardship_days):
    doc = default_policy_doc()
    if hardship_days is None:
        doc["grace"].pop("hardship_extension_days", None)
    else:
        doc["grace"]["hardship_extension_days"] = hardship_days
    return load_policy(yaml.safe_dump(doc))     # with the shipped jurisdiction profiles


def _account(jurisdiction, tz):
    return make_account(due_date=days_ago(20), jurisdiction=jurisdiction, timezone=tz)


def _hardship_hold(policy, account, now=NOW, started=STARTED):
    history = [ev("hardship", datetime.combine(started, time(10), timezone.utc))]
    d = decide(account, history, policy, now)
    holds = [s for s in d.suppressions if s.rule == "pause.hardship"]
    return d, (holds[0] if holds else None)


def _end(last_day, tz):
    """The instant the pause lifts: the local midnight after its last day."""
    return datetime.combine(last_day + timedelta(days=1), time(0), ZoneInfo(tz)).astimezone(timezone.utc)


@pytest.mark.parametrize("policy_days, jurisdiction, tz, last_day", [
    (30, "AU-VIC", "Australia/Melbourne", STARTED + timedelta(days=42)),   # AU's 42 lengthens 30
    (60, "AU-VIC", "Australia/Melbourne", STARTED + timedelta(days=60)),   # ... but never shortens 60
    (42, "AU-VIC", "Australia/Melbourne", STARTED + timedelta(days=42)),   # equal: the same day
    (20, "GB", "Europe/London", STARTED + timedelta(days=30)),             # UK forbearance: 30
    (20, "FR", "Europe/Paris", STARTED + timedelta(days=20)),              # no profile: the policy's
])
def test_a_profile_only_lengthens_the_hardship_pause(policy_days, jurisdiction, tz, last_day):
    d, hold = _hardship_hold(_policy(policy_days), _account(jurisdiction, tz))
    assert d.action is None
    assert hold is not None and hold.until == _end(last_day, tz)


@pytest.mark.parametrize("jurisdiction, tz", [("AU-VIC", "Australia/Melbourne"), ("GB", "Europe/London"),
                                              ("FR", "Europe/Paris")])
def test_an_open_ended_hardship_pause_stays_open_ended(jurisdiction, tz):
    policy = _policy(None)
    account = _account(jurisdiction, tz)
    d, hold = _hardship_hold(policy, account)
    assert hold is not None and hold.until is None                 # only an event ends it
    # A year later it still holds: no profile's figure turned it into a fixed length.
    later, hold = _hardship_hold(policy, account, NOW + timedelta(days=365))
    assert later.action is None and hold is not None and hold.until is None


def test_the_pause_lifts_on_the_profiles_last_day():
    # Started 2026-11-02: the last day is Monday 14 December, an ordinary working day in Victoria.
    policy, account, started = _policy(30), _account("AU-VIC", "Australia/Melbourne"), days_ago(20)
    end = _end(started + timedelta(days=42), "Australia/Melbourne")
    held, _ = _hardship_hold(policy, account, end - timedelta(minutes=1), started)
    free, hold = _hardship_hold(policy, account, end + timedelta(hours=10), started)   # 10:00 local
    assert held.action is None
    assert hold is None and free.action is not None


def test_the_same_lengths_in_the_batch_path():
    """decide_batch gives the same `until` as decide() for a mixed batch (one column per rule)."""
    policy = _policy(30)
    accounts = [_account("AU-VIC", "Australia/Melbourne"), _account("FR", "Europe/Paris"),
                _account("GB", "Europe/London")]
    history = [ev("hardship", datetime.combine(STARTED, time(10), timezone.utc))]
    out = decide_batch(Batch.from_objects(accounts, [history] * len(accounts)), policy, NOW)
    untils = []
    for i, account in enumerate(accounts):
        assert out.decision(i).to_dict() == decide(account, history, policy, NOW).to_dict()
        untils.append(next(s.until for s in out.decision(i).suppressions if s.rule == "pause.hardship"))
    assert untils == [_end(date(2026, 12, 24), "Australia/Melbourne"), _end(date(2026, 12, 12), "Europe/Paris"),
                      _end(date(2026, 12, 12), "Europe/London")]
