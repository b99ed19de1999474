"""The debtor's own wishes (`contact_preference` events) bind like a guardrail, and are explained.

Real time zones, the shipped policy, a fixed `now` (Sunday 2026-11-22 15:00 UTC, London).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import yaml

from arrears.engine import decide, load_policy
from arrears.engine.domain.errors import InputError
from arrears.engine.domain.model import Event
from arrears.policies import DEFAULT_POLICY
from tests import oracle
from tests.core_factories import NOW, ev, make_account, policy_doc_without_house_hours, without_house_hours

# The shipped policy without its house contact hours: the suite's NOW is a Sunday afternoon,
# when they contact no consumer (they have tests of their own: tests/test_contact_hours.py).
POLICY = load_policy(without_house_hours(DEFAULT_POLICY.read_text(encoding="utf-8")), filename="default.yaml")
UTC = timezone.utc
SAID = "2026-11-10T09:00:00Z"


def wish(until=None, **wishes):
    extra = {"until": until} if until else {}
    return ev("contact_preference", SAID, wishes=wishes, **extra)


def check(decision, rule="debtor.wishes"):
    return next(t for t in decision.trace if t.step == f"check {rule}")


def test_without_wishes_the_step_goes_now_and_no_trace_line_mentions_them():
    d = decide(make_account(), [], POLICY, NOW)
    assert d.action.channel == "email" and d.action.not_before == NOW
    assert not [t for t in d.trace if "debtor.wishes" in t.step]


def test_welcome_hours_and_days_hold_the_contact_until_the_first_welcome_moment():
    d = decide(make_account(), [wish(hours={"start": "18:00", "end": "20:00"}, days=["tue", "sat"])],
               POLICY, NOW)
    # Sunday: the next welcome moment is Tuesday 18:00 London (UTC in winter): more than a day away.
    assert d.action is None
    (s,) = d.suppressions
    assert s.rule == "debtor.wishes"
    assert s.until == datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
    assert "the debtor asked: contact only 18:00-20:00; only on tue, sat" in s.reason
    step = check(d)
    assert step.outcome == "blocked" and step.detail.endswith("until 2026-11-24T18:00:00Z")
    assert d.next_evaluation_at == s.until


def test_welcome_hours_later_today_defer_the_step_with_until():
    d = decide(make_account(), [wish(hours={"start": "18:00", "end": "20:00"})], POLICY, NOW)
    assert d.action.not_before == datetime(2026, 11, 22, 18, 0, tzinfo=UTC)
    assert check(d).outcome == "deferred"
    assert [s.until for s in d.suppressions] == [datetime(2026, 11, 22, 18, 0, tzinfo=UTC)]


def test_wishes_are_searched_with_the_profiles_windows_in_the_debtors_zone():
    # A New York debtor under Regulation F (08:00-21:00) who welcomes contact only 07:00-09:00:
    # only 08:00-09:00 local satisfies both.
    doc = policy_doc_without_house_hours()
    doc["compliance"]["fdcpa_applies"] = True
    fdcpa = load_policy(yaml.safe_dump(doc), filename="fdcpa.yaml")
    acc = make_account(jurisdiction="US-NY", timezone="America/New_York", currency="USD")
    d = decide(acc, [wish(hours={"start": "07:00", "end": "09:00"})], fdcpa, NOW)
    assert d.action.not_before == datetime(2026, 11, 23, 13, 0, tzinfo=UTC)     # 08:00 EST


def test_only_the_channels_asked_for_and_the_others_wait_for_the_wish_to_end():
    d = decide(make_account(), [wish(until="2026-11-30", channels=["letter"])], POLICY, NOW)
    assert d.action.channel == "letter"
    (s,) = d.suppressions
    assert s.rule == "debtor.wishes" and "moved to letter" in s.reason and "(until 2026-11-30)" in s.reason
    assert s.until == datetime(2026, 12, 1, 0, 0, tzinfo=UTC)


def test_a_channel_the_stage_cannot_use_names_the_wish_not_channel_unavailable():
    d = decide(make_account(), [wish(channels=["call"])], POLICY, NOW)
    assert d.action is None
    assert [(s.rule, s.until) for s in d.suppressions] == [("debtor.wishes", None)]


def test_a_wish_past_its_until_day_no_longer_binds():
    d = decide(make_account(), [wish(until="2026-11-21", channels=["letter"])], POLICY, NOW)
    assert d.action.channel == "email" and not d.suppressions


def test_the_latest_wish_replaces_earlier_ones_and_an_empty_one_withdraws_them():
    first = wish(channels=["letter"])
    withdrawn = ev("contact_preference", "2026-11-15T09:00:00Z", wishes={})
    d = decide(make_account(), [first, withdrawn], POLICY, NOW)
    assert d.action.channel == "email" and not d.suppressions


def test_no_contact_at_work_keeps_calls_after_the_working_day():
    # A business debtor 35 days late: the personal call stage. Monday 2026-11-23 10:00 London.
    acc = make_account(debtor_type="business", due_date="2026-10-19")
    monday = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    plain = decide(acc, [], POLICY, monday)
    assert plain.action.channel == "call" and plain.action.not_before == monday
    d = decide(acc, [wish(no_contact_at_work=True, working_hours={"start": "08:30", "end": "17:30"})],
               POLICY, monday)
    assert d.action.channel == "call"
    assert d.action.not_before == datetime(2026, 11, 23, 17, 30, tzinfo=UTC)
    assert "no call or text at work (weekdays 08:30-17:30)" in d.suppressions[0].reason


def test_the_language_wish_picks_the_template_language_when_there_is_one():
    d = decide(make_account(language="en"), [wish(language="fr")], POLICY, NOW)
    assert d.action.template == "firm_reminder" and d.action.language == "fr"
    # No Japanese variant: the policy's default language.
    d = decide(make_account(language="de"), [wish(language="ja")], POLICY, NOW)
    assert d.action.language == "en"


def test_a_represented_debtors_wishes_do_not_bind_the_representative():
    rep = ev("represented", "2026-11-12T09:00:00Z",
             representative={"name": "A. Lawyer", "email": "lawyer@example.com"})
    d = decide(make_account(), [wish(channels=["letter"]), rep], POLICY, NOW)
    assert not [s for s in d.suppressions if s.rule == "debtor.wishes"]


@pytest.mark.parametrize("wishes, where, message", [
    ({"hours": {"start": "20:00", "end": "18:00"}}, "event.wishes.hours", "start must be before end"),
    ({"hours": {"start": "8:00", "end": "18:00"}}, "event.wishes.hours.start", "HH:MM"),
    ({"days": ["mon", "funday"]}, "event.wishes.days[1]", "funday"),
    ({"days": []}, "event.wishes.days", "non-empty list"),
    ({"channels": ["webhook"]}, "event.wishes.channels[0]", "email, sms, letter, call"),
    ({"working_hours": {"start": "09:00", "end": "17:00"}}, "event.wishes.working_hours",
     "only with no_contact_at_work"),
    ({"no_contact_at_work": "yes"}, "event.wishes.no_contact_at_work", "true or false"),
    ({"language": "French"}, "event.wishes.language", "ISO 639-1"),
    ({"colour": "blue"}, "event.wishes", "unknown field(s) colour"),
])
def test_bad_wishes_are_refused_naming_the_field(wishes, where, message):
    with pytest.raises(InputError) as info:
        Event.from_dict({"type": "contact_preference", "at": SAID, "wishes": wishes})
    assert info.value.where == where and message in str(info.value)


def test_wishes_belong_to_contact_preference_events_only():
    with pytest.raises(InputError) as info:
        Event.from_dict({"type": "note", "at": SAID, "wishes": {"language": "fr"}})
    assert info.value.where == "event.wishes"
    with pytest.raises(InputError) as info:
        Event.from_dict({"type": "contact_preference", "at": SAID})
    assert info.value.where == "event.wishes"


@pytest.mark.parametrize("wishes", [
    {"hours": {"start": "18:00", "end": "20:00"}, "days": ["tue", "sat"]},
    {"channels": ["letter", "sms"], "hours": {"start": "09:30", "end": "12:00"}},
    {"no_contact_at_work": True, "days": ["mon", "wed", "fri"]},
    {"hours": {"start": "07:00", "end": "08:30"}, "language": "de"},
])
@pytest.mark.parametrize("debtor", [
    {"debtor_type": "business", "due_date": "2026-10-19"},                        # personal calls
    {"jurisdiction": "US-NY", "timezone": "America/New_York", "currency": "USD"},
    {"jurisdiction": "AU-NSW", "timezone": "Australia/Sydney", "currency": "AUD"},
])
def test_every_contact_over_a_week_respects_the_wishes_by_the_independent_oracle(wishes, debtor):
    acc = make_account(**debtor)
    history = [wish(**wishes)]
    doc = policy_doc_without_house_hours()
    acted = 0
    for hours in range(0, 7 * 24, 5):
        now = NOW + timedelta(hours=hours)
        d = decide(acc, history, POLICY, now)
        assert oracle.violations(acc, history, now, d, doc) == [], (now, d.action)
        acted += d.action is not None
    # The wishes narrow contact, they do not end it (unless the stage has none of the wished channels:
    # the business debtor's personal call stage offers call and email only).
    assert acted or (debtor.get("debtor_type") == "business" and "channels" in wishes)
