"""House contact hours, state holidays and the rule that decides a held contact's time.

Real time zones and holiday calendars; every decision at a fixed `now`.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from arrears.engine import Account, Event, decide, load_policy
from arrears.engine.domain.errors import PolicyError

ROOT = Path(__file__).resolve().parents[1]
UTC = timezone.utc
DEFAULT = (ROOT / "policies" / "default.yaml").read_text(encoding="utf-8")

POLICY = """
metadata: {name: hours, version: "1", default_timezone: Europe/London}
aging:
  buckets: [{name: current, max_days: 0}, {name: late, min_days: 1}]
channels: {call: {kind: call}, email: {kind: email}, letter: {kind: letter}}
templates: {t: {languages: [en]}}
escalation:
  stages:
    - {id: calls, days_past_due: 1, action: call, channels: [CHANNELS], template: t, max_attempts: 60, repeat_every_days: 1}
compliance:
  profiles: [auto]
  fdcpa_applies: true
EXTRA
"""

WIDE_HOURS = """
  contact_hours:
    - {id: all, channels: [call, email], weekdays: {start: "07:00", end: "22:00"},
       saturday: {start: "07:00", end: "22:00"}, sunday: {start: "07:00", end: "22:00"}}
"""


def policy(channels="call", extra=""):
    return load_policy(POLICY.replace("CHANNELS", channels).replace("EXTRA", extra), filename="hours.yaml")


def local(tz, *args):
    return datetime(*args, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def account(jurisdiction, tz, debtor_type="consumer", **extra):
    data = {"id": "A", "currency": "EUR", "jurisdiction": jurisdiction, "timezone": tz,
            "debtor_type": debtor_type, "contact": {"email": "a@example.com", "phone": "+15550100"},
            "invoices": [{"id": "I1", "amount": "800.00", "due_date": "2026-09-01"}]}
    data.update(extra)
    return Account.from_dict(data)


def ev(type_, at, **fields):
    return Event.from_dict({"type": type_, "at": at.isoformat(), **fields})


def started(at, channel="call"):
    """The episode's first attempt, so the stage repeats daily."""
    return ev("contact_attempt", at, channel=channel, outcome="queued", stage="calls")


def shipped():
    return load_policy(DEFAULT, filename="default.yaml")


def reminder_account(jurisdiction, tz, debtor_type="consumer", due="2026-11-16"):
    return Account.from_dict({"id": "R", "currency": "EUR", "jurisdiction": jurisdiction, "timezone": tz,
                              "debtor_type": debtor_type, "contact": {"email": "r@example.com"},
                              "invoices": [{"id": "I1", "amount": "800.00", "due_date": due}]})


# ---- item 2: house hours where no profile gives any ------------------------------------------

@pytest.mark.parametrize("jurisdiction, tz, debtor_type", [
    ("JP", "Asia/Tokyo", "consumer"),
    ("IN", "Asia/Kolkata", "consumer"),
    ("DE", "Europe/Berlin", "business"),
    ("GB-ENG", "Europe/London", "business"),
    ("US-TX", "America/Chicago", "consumer"),        # a creditor without the FDCPA profile
    (None, "Europe/Madrid", "consumer"),             # no jurisdiction at all
])
def test_no_email_at_local_midnight_anywhere(jurisdiction, tz, debtor_type):
    now = local(tz, 2026, 11, 25, 0, 30)            # Wednesday, 00:30 local
    d = decide(reminder_account(jurisdiction, tz, debtor_type), [], shipped(), now)
    opens = local(tz, 2026, 11, 25, 8 if debtor_type == "consumer" else 9, 0)
    assert d.action is not None and d.action.channel == "email"
    assert d.action.not_before == opens
    rule = "house.consumer" if debtor_type == "consumer" else "house.business"
    (s,) = [s for s in d.suppressions if s.rule == rule]
    assert s.until == opens and s.reason.startswith("deferred: ")


def test_the_next_permitted_time_is_exact_across_the_end_of_summer_time():
    # Saturday 24 October 2026, 15:00 in London (no business hours); clocks go back on Sunday;
    # Monday 09:00 is GMT, so 09:00 UTC (not 08:00 UTC, as it would be in summer time).
    now = local("Europe/London", 2026, 10, 24, 15, 0)
    d = decide(reminder_account("GB-ENG", "Europe/London", "business", due="2026-10-16"), [],
               shipped(), now)
    assert d.action is None
    (s,) = d.suppressions
    assert s.rule == "house.business" and s.until == datetime(2026, 10, 26, 9, 0, tzinfo=UTC)
    assert d.next_evaluation_at == s.until


def test_holidays_close_the_house_hours_and_the_hours_decide_the_time():
    now = local("Europe/London", 2026, 12, 25, 10, 0)      # Christmas Day, a Friday
    d = decide(reminder_account("GB-ENG", "Europe/London", "business", due="2026-12-17"), [], shipped(), now)
    held = {s.rule: s for s in d.suppressions}
    # Boxing Day falls on Saturday, so Monday 28 December is its substitute, closed too.
    assert held["house.business"].until == datetime(2026, 12, 29, 9, 0, tzinfo=UTC)
    assert held["house.business-holidays"].until == datetime(2026, 12, 27, 0, 0, tzinfo=UTC)
    assert d.suppressions[0].rule == "house.business"
    assert "the earliest time is set by house.business" in held["house.business-holidays"].reason


def test_a_profile_narrows_the_house_hours_and_is_named_alone_when_it_alone_holds():
    pol = policy(extra=WIDE_HOURS)
    ny = "America/New_York"
    now = local(ny, 2026, 11, 24, 7, 30)                   # house opens 07:00, Regulation F 08:00
    d = decide(account("US-CA", ny), [started(now - timedelta(days=2))], pol, now)
    assert d.action.not_before == local(ny, 2026, 11, 24, 8, 0)
    assert [s.rule for s in d.suppressions] == ["us-regf.inconvenient-time"]
    now = local(ny, 2026, 11, 24, 21, 30)                  # both closed: both decide
    d = decide(account("US-CA", ny), [started(now - timedelta(days=2))], pol, now)
    assert d.action.not_before == local(ny, 2026, 11, 25, 8, 0)
    assert {s.rule for s in d.suppressions} == {"us-regf.inconvenient-time"}
    now = local(ny, 2026, 11, 24, 22, 30)
    d = decide(account("US-CA", ny), [started(now - timedelta(days=2))], pol, now)
    assert {s.rule for s in d.suppressions} == {"us-regf.inconvenient-time", "house.all"}


def test_house_hours_per_debtor_type_and_channel():
    extra = """
  contact_hours:
    - {id: consumer-calls, debtor_types: [consumer], channels: [call],
       weekdays: {start: "10:00", end: "12:00"}, saturday: closed, sunday: closed, holidays: open}
"""
    pol = policy("call, email", extra)
    london = "Europe/London"
    now = local(london, 2026, 11, 24, 13, 0)
    d = decide(account("GB-ENG", london, "consumer"), [started(now - timedelta(days=2))], pol, now)
    assert d.action.channel == "call" and d.action.not_before == local(london, 2026, 11, 25, 10, 0)
    d = decide(account("GB-ENG", london, "business"), [started(now - timedelta(days=2))], pol, now)
    assert d.action.channel == "call" and d.action.not_before == now     # not a consumer
    assert not any(s.rule.startswith("house.") for s in d.suppressions)


def test_house_hours_are_not_listed_as_a_jurisdiction_profile():
    now = local("Asia/Tokyo", 2026, 11, 25, 0, 30)
    d = decide(reminder_account("JP", "Asia/Tokyo"), [], shipped(), now)
    assert d.profiles == ()
    assert any(t.step == "check house.consumer" and t.outcome == "deferred" for t in d.trace)


@pytest.mark.parametrize("entry, message", [
    ('{id: a, channels: [call], weekdays: {start: "20:00", end: "08:00"}, saturday: closed, sunday: closed}',
     "weekdays: start 20:00 must be before end 08:00"),
    ('{id: a, channels: [call], weekdays: {start: "08:00", end: "20:00"}, saturday: shut, sunday: closed}',
     "'shut' is not allowed; expected one of: closed"),
    ('{id: a, channels: [fax], weekdays: {start: "08:00", end: "20:00"}, saturday: closed, sunday: closed}',
     "'fax' is not allowed"),
    ('{id: a, channels: [call], weekdays: {start: "08:00", end: "20:00"}, sunday: closed}',
     "missing required key 'saturday'"),
])
def test_bad_house_hours_are_refused_with_their_position(entry, message):
    text = POLICY.replace("CHANNELS", "call").replace("EXTRA", "  contact_hours:\n    - " + entry + "\n")
    with pytest.raises(PolicyError) as err:
        load_policy(text, filename="bad.yaml")
    problems = [p for p in err.value.problems if message in p.message]
    assert problems, [str(p) for p in err.value.problems]
    assert problems[0].file == "bad.yaml" and problems[0].line == 14


def test_two_house_hours_with_one_id_are_refused():
    entry = '{id: a, channels: [call], weekdays: closed, saturday: closed, sunday: closed}'
    text = POLICY.replace("CHANNELS", "call").replace(
        "EXTRA", f"  contact_hours:\n    - {entry}\n    - {entry}\n")
    with pytest.raises(PolicyError, match="duplicate contact hours id 'a'"):
        load_policy(text, filename="dupe.yaml")


# ---- item 15: state holidays chosen by the policy --------------------------------------------

def test_a_policy_closes_a_states_own_holidays():
    melbourne = "Australia/Melbourne"
    now = local(melbourne, 2026, 11, 3, 10, 0)             # Melbourne Cup Day, Victoria only
    acc = account("AU-VIC", melbourne, currency="AUD")
    history = [started(now - timedelta(days=2))]
    d = decide(acc, history, policy(), now)
    assert d.action.not_before == now                       # the profile closes national days only
    d = decide(acc, history, policy(extra="  state_holidays: [AU-VIC]\n"), now)
    assert d.action.not_before == local(melbourne, 2026, 11, 4, 7, 30)
    assert d.suppressions[0].rule == "au.phone-hours"
    assert any(s.rule == "au.public-holidays" for s in d.suppressions)
    # New South Wales does not keep the Cup
    sydney = account("AU-NSW", "Australia/Sydney", currency="AUD")
    d = decide(sydney, history, policy(extra="  state_holidays: [AU]\n"), now)
    assert d.action.not_before == now


def test_state_holidays_also_close_the_house_hours():
    ny = "America/New_York"
    now = local(ny, 2027, 4, 19, 10, 0)                    # Patriots' Day, Massachusetts
    acc = reminder_account("US-MA", ny, due="2027-04-10")
    assert decide(acc, [], shipped(), now).action.not_before == now
    doc = DEFAULT.replace("  fdcpa_applies: false\n", "  fdcpa_applies: false\n  state_holidays: [US-MA]\n")
    d = decide(acc, [], load_policy(doc, filename="ma.yaml"), now)
    assert d.action.not_before == local(ny, 2027, 4, 20, 8, 0)


# ---- item 7: the rule whose end decides the time is named, and the others ----------------------

NY = "America/New_York"


def test_the_quiet_period_is_named_with_the_hours_that_set_the_time():
    conversation = local(NY, 2026, 11, 20, 15, 0)          # day 1 of 7
    history = [started(conversation - timedelta(days=2)),
               ev("validation_notice_sent", conversation - timedelta(days=2)),
               ev("contact_outcome", conversation, channel="call", outcome="conversation")]
    now = local(NY, 2026, 11, 26, 12, 0)                   # day 7, noon
    d = decide(account("US-CA", NY), history, policy(), now)
    assert d.action.not_before == local(NY, 2026, 11, 27, 8, 0)
    first, second = d.suppressions
    assert first.rule == "us-regf.inconvenient-time" and first.until == d.action.not_before
    assert second.rule == "us-regf.call-after-conversation"
    assert second.until == local(NY, 2026, 11, 27, 0, 0)
    assert "the earliest time is set by us-regf.inconvenient-time" in second.reason


def test_a_cap_that_lifts_at_night_is_named_with_the_hours():
    now = local(NY, 2026, 11, 24, 12, 0)
    first = local(NY, 2026, 11, 17, 22, 0)                  # ages out at 22:00 tonight
    history = [started(now - timedelta(days=8)), ev("validation_notice_sent", now - timedelta(days=8))] + [
        ev("contact_outcome", first + timedelta(hours=6 * i), channel="call", outcome="no_answer")
        for i in range(7)]
    d = decide(account("US-CA", NY), history, policy(), now)
    assert d.action.not_before == local(NY, 2026, 11, 25, 8, 0)
    rules = [s.rule for s in d.suppressions]
    assert rules == ["us-regf.inconvenient-time", "us-regf.call-7-in-7"]
    assert d.suppressions[1].until == local(NY, 2026, 11, 24, 22, 0)


def test_a_cap_that_sets_the_time_comes_first():
    now = local(NY, 2026, 11, 24, 7, 0)
    first = local(NY, 2026, 11, 17, 10, 0)                  # ages out at 10:00 today
    history = [started(now - timedelta(days=8)), ev("validation_notice_sent", now - timedelta(days=8))] + [
        ev("contact_outcome", first + timedelta(hours=6 * i), channel="call", outcome="no_answer")
        for i in range(7)]
    d = decide(account("US-CA", NY), history, policy(), now)
    assert d.action.not_before == local(NY, 2026, 11, 24, 10, 0)
    assert [s.rule for s in d.suppressions] == ["us-regf.call-7-in-7", "us-regf.inconvenient-time"]
    assert d.suppressions[1].until == local(NY, 2026, 11, 24, 8, 0)
    assert "the earliest time is set by us-regf.call-7-in-7" in d.suppressions[1].reason


# ---- item 16: what docs/compliance.md now says the engine does ---------------------------------

@pytest.mark.parametrize("jurisdiction, closed", [("AU-NSW", True), ("AU", False)])
def test_australian_substitute_holidays_are_closed_for_a_states_accounts(jurisdiction, closed):
    sydney = "Australia/Sydney"
    now = local(sydney, 2027, 12, 27, 10, 0)               # Christmas Day (observed), a Monday
    acc = account(jurisdiction, sydney, currency="AUD")
    d = decide(acc, [started(now - timedelta(days=2))], policy(), now)
    if closed:                                             # and Boxing Day (observed) on the 28th
        assert d.action is None and d.next_evaluation_at == local(sydney, 2027, 12, 29, 7, 30)
        assert any(s.rule == "au.public-holidays" for s in d.suppressions)
    else:
        assert d.action.not_before == now


@pytest.mark.parametrize("debtor_type", ["consumer", "business"])
def test_the_us_time_bar_applies_to_creditors_and_business_accounts(debtor_type):
    text = POLICY.replace("CHANNELS", "call").replace("fdcpa_applies: true", "fdcpa_applies: false").replace(
        "EXTRA", "").replace(
        "max_attempts: 60, repeat_every_days: 1}",
        "max_attempts: 60, repeat_every_days: 1}\n"
        "    - {id: formal, days_past_due: 300, action: formal_notice, channels: [letter], template: t,"
        " required: true}\n"
        "    - {id: legal, days_past_due: 400, action: legal_warning, channels: [letter], template: t}\n"
        "    - {id: writeoff, days_past_due: 500, action: write_off, channels: [letter], template: t}")
    pol = load_policy(text, filename="creditor.yaml")
    acc = account("US-TX", NY, debtor_type, currency="USD", contact={"address": "1 Main St"},
                  invoices=[{"id": "I1", "amount": "800.00", "due_date": "2023-05-01"}])
    now = local(NY, 2026, 11, 24, 12, 0)
    formal = ev("contact_attempt", now - timedelta(days=30), channel="letter", outcome="sent", stage="formal")
    d = decide(acc, [formal], pol, now)
    assert d.profiles == ("us-limitations",)
    assert d.action.type == "write_off"
    assert any(s.rule == "us-limitations.time-barred" for s in d.suppressions)


def test_a_cap_that_has_already_lifted_is_not_named():
    now = local(NY, 2026, 11, 24, 12, 0)
    first = now - timedelta(days=10)                          # seven calls, the last 8.5 days ago
    history = [started(now - timedelta(days=12)), ev("validation_notice_sent", now - timedelta(days=12))] + [
        ev("contact_outcome", first + timedelta(hours=6 * i), channel="call", outcome="no_answer")
        for i in range(7)]
    d = decide(account("US-CA", NY), history, policy(), now)
    assert d.action.not_before == now and d.suppressions == ()
    assert {t.step: t.outcome for t in d.trace}["check us-regf.call-7-in-7"] == "clear"
