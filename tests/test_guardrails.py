"""Scenario tests for the jurisdiction guardrails, built from the regulations' own figures."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from arrears.engine import Account, Event, decide, load_policy
from arrears.engine.domain.errors import PolicyError

ROOT = Path(__file__).resolve().parents[1]
UTC = timezone.utc

CALL_POLICY = """
metadata: {name: guard, version: "1", default_timezone: America/New_York}
aging:
  buckets: [{name: current, max_days: 0}, {name: late, min_days: 1}]
channels: {call: {kind: call}, email: {kind: email}, sms: {kind: sms}, letter: {kind: letter}, review: {kind: task}}
templates: {t: {languages: [en]}}
escalation:
  stages:
    - {id: calls, days_past_due: 1, action: call, channels: [CHANNELS], template: t, max_attempts: 60, repeat_every_days: 1}
    - {id: formal, days_past_due: 400, action: formal_notice, channels: [letter], template: t, required: true, max_attempts: 1}
    - {id: legal, days_past_due: 500, action: legal_warning, channels: [letter], template: t, required: true, max_attempts: 1}
    - {id: writeoff, days_past_due: 600, action: write_off, channels: [review], template: t, max_attempts: 1}
compliance: {profiles: [auto], fdcpa_applies: true}
"""


def policy(channels="call"):
    return load_policy(CALL_POLICY.replace("CHANNELS", channels), filename="guard.yaml")


def account(jurisdiction, tz, **extra):
    data = {"id": "A", "currency": "USD", "jurisdiction": jurisdiction, "timezone": tz,
            "contact": {"email": "a@example.com", "phone": "+15550100", "mobile": "+15550101",
                        "address": "1 Main St"},
            "invoices": [{"id": "I1", "amount": "800.00", "due_date": "2026-10-01"}]}
    data.update(extra)
    return Account.from_dict(data)


def local(tz, *args):
    return datetime(*args, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def ev(type_, at, **fields):
    return Event.from_dict({"type": type_, "at": at.isoformat(), **fields})


def started(at):
    """The collection episode's first call task, so the stage repeats daily."""
    return ev("contact_attempt", at, channel="call", outcome="queued", stage="calls")


def calls(times, outcome="no_answer"):
    return [ev("contact_outcome", t, channel="call", outcome=outcome) for t in times]


def rules(decision):
    return {s.rule: s for s in decision.suppressions}


NY = "America/New_York"


def test_eighth_call_in_seven_days_waits_until_the_first_ages_out():
    now = local(NY, 2026, 11, 24, 12, 0)
    first = now - timedelta(days=5)
    history = [started(now - timedelta(days=6))] + calls([first + timedelta(hours=6 * i) for i in range(7)])
    d = decide(account("US-CA", NY), history, policy(), now)
    assert d.action is None
    s = rules(d)["us-regf.call-7-in-7"]
    assert s.until == first + timedelta(days=7)
    assert d.next_evaluation_at == s.until
    # one attempt fewer: the call goes out now
    d = decide(account("US-CA", NY), history[:-1], policy(), now)
    assert d.action is not None and d.action.channel == "call" and d.action.not_before == now


def test_calls_that_were_only_queued_or_failed_do_not_count():
    now = local(NY, 2026, 11, 24, 12, 0)
    history = [started(now - timedelta(days=6))] + [
        ev("contact_attempt", now - timedelta(hours=h), channel="call", outcome="failed", stage="calls")
        for h in range(1, 9)]
    d = decide(account("US-CA", NY), history, policy(), now)
    assert "us-regf.call-7-in-7" not in rules(d)


def test_a_call_at_0759_local_is_deferred_to_0800():
    now = local(NY, 2026, 11, 24, 7, 59)
    d = decide(account("US-CA", NY), [started(now - timedelta(days=2))], policy(), now)
    assert d.action.not_before == local(NY, 2026, 11, 24, 8, 0)
    assert rules(d)["us-regf.inconvenient-time"].until == local(NY, 2026, 11, 24, 8, 0)
    assert d.next_evaluation_at == local(NY, 2026, 11, 24, 8, 0)


def test_a_call_at_2100_local_waits_for_the_next_morning_across_the_dst_change():
    # 2026-11-01 02:00 EDT -> 01:00 EST: 21:00 on Saturday 31 October waits until 08:00 EST
    now = local(NY, 2026, 10, 31, 21, 0)
    d = decide(account("US-CA", NY), [started(now - timedelta(days=2))], policy(), now)
    assert d.action.not_before == datetime(2026, 11, 1, 13, 0, tzinfo=UTC)


def test_massachusetts_allows_only_two_calls_in_seven_days():
    now = local(NY, 2026, 11, 24, 12, 0)
    first = now - timedelta(days=3)
    history = [started(now - timedelta(days=6))] + calls([first, first + timedelta(days=1)])
    d = decide(account("US-MA", NY), history, policy(), now)
    assert d.action is None
    assert rules(d)["us-ma.calls-2-in-7"].until == first + timedelta(days=7)
    assert "us-regf.call-7-in-7" not in rules(d)
    d = decide(account("US-CA", NY), history, policy(), now)   # elsewhere in the US: allowed
    assert d.action is not None


def test_massachusetts_cap_moves_the_contact_to_email_when_the_stage_allows_it():
    now = local(NY, 2026, 11, 24, 12, 0)
    first = now - timedelta(days=3)
    history = [started(now - timedelta(days=6))] + calls([first, first + timedelta(days=1)])
    d = decide(account("US-MA", NY), history, policy("call, email"), now)
    assert d.action.channel == "email" and d.action.not_before == now
    assert "opt_out" in d.action.content
    assert "moved to email" in rules(d)["us-ma.calls-2-in-7"].reason


def test_no_call_within_seven_days_after_a_conversation():
    conversation = local(NY, 2026, 11, 20, 15, 0)          # day 1
    now = local(NY, 2026, 11, 24, 12, 0)
    history = [started(now - timedelta(days=6)), ev("validation_notice_sent", now - timedelta(days=6))]
    history += calls([conversation], outcome="conversation")
    d = decide(account("US-CA", NY), history, policy(), now)
    assert d.action is None
    assert rules(d)["us-regf.call-after-conversation"].until == local(NY, 2026, 11, 27, 0, 0)
    d = decide(account("US-CA", NY), history, policy(), local(NY, 2026, 11, 27, 9, 0))
    assert d.action is not None                               # day 8 at 09:00


def test_every_known_time_zone_must_allow_the_call():
    now = local(NY, 2026, 11, 24, 8, 30)                      # 05:30 in Los Angeles
    acc = account("US-CA", NY, other_timezones=["America/Los_Angeles"])
    d = decide(acc, [started(now - timedelta(days=2))], policy(), now)
    assert d.action.not_before == local("America/Los_Angeles", 2026, 11, 24, 8, 0)


def test_new_south_wales_debtor_is_not_called_on_australia_day():
    sydney = "Australia/Sydney"
    now = local(sydney, 2027, 1, 26, 10, 0)                   # Tuesday, Australia Day
    acc = account("AU-NSW", sydney, currency="AUD", invoices=[{"id": "I1", "amount": "800.00",
                                                               "due_date": "2026-12-20"}])
    d = decide(acc, [started(now - timedelta(days=2))], policy(), now)
    assert d.action.not_before == local(sydney, 2027, 1, 27, 7, 30)
    assert "au.public-holidays" in rules(d)


def test_australian_weekend_calls_start_at_0900():
    sydney = "Australia/Sydney"
    now = local(sydney, 2026, 11, 28, 8, 0)                   # Saturday
    acc = account("AU-VIC", sydney, currency="AUD")
    d = decide(acc, [started(now - timedelta(days=2))], policy(), now)
    assert d.action.not_before == local(sydney, 2026, 11, 28, 9, 0)


def test_australia_counts_contacts_not_attempts():
    sydney = "Australia/Sydney"
    now = local(sydney, 2026, 11, 25, 12, 0)
    acc = account("AU-VIC", sydney, currency="AUD")
    base = [started(now - timedelta(days=6))]
    unanswered = calls([now - timedelta(days=d) for d in (1, 2, 3)], outcome="no_answer")
    assert decide(acc, base + unanswered, policy(), now).action is not None
    reached = calls([now - timedelta(days=d) for d in (1, 2, 3)], outcome="conversation")
    d = decide(acc, base + reached, policy(), now)
    assert d.action is None and "au.contacts-3-per-week" in rules(d)


def test_uk_breathing_space_stops_contact_and_interest_for_sixty_days():
    pol = load_policy(ROOT / "policies" / "default.yaml")
    acc = Account.from_dict({"id": "B", "currency": "GBP", "jurisdiction": "GB-ENG", "debtor_type": "business",
                             "timezone": "Europe/London", "contact": {"email": "b@example.com"},
                             "invoices": [{"id": "I1", "amount": "5000.00", "due_date": "2026-08-01"}]})
    start = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
    history = [ev("breathing_space", start)]
    during = decide(acc, history, pol, start + timedelta(days=59))
    assert during.action is None and during.offers == ()
    assert "stop.breathing_space" in rules(during)
    assert during.fees.frozen and during.fees.interest.amount == 0
    after = decide(acc, history, pol, start + timedelta(days=61))
    assert after.action is not None and not after.fees.frozen and after.fees.interest.amount > 0


def test_a_time_barred_debt_never_reaches_legal_action():
    now = local(NY, 2026, 11, 24, 12, 0)
    acc = account("US-CA", NY, invoices=[{"id": "I1", "amount": "800.00", "due_date": "2023-06-01"}])
    history = [ev("contact_attempt", now - timedelta(days=30), channel="letter", outcome="sent", stage="formal")]
    d = decide(acc, history, policy(), now)
    assert d.action is not None and d.action.type == "write_off"
    assert "us-fdcpa.time-barred" in rules(d)
    assert "time-barred since 2026-05-31" in rules(d)["us-fdcpa.time-barred"].reason
    # within the period the required legal warning comes first
    recent = account("US-CA", NY, invoices=[{"id": "I1", "amount": "800.00", "due_date": "2024-06-01"}])
    assert decide(recent, history, policy(), now).action.type == "legal_warning"


@pytest.mark.parametrize("jurisdiction, barred", [("AU-NT", True), ("AU-NSW", False)])
def test_limitation_period_overrides_by_state(jurisdiction, barred):
    sydney = "Australia/Darwin"
    now = local(sydney, 2026, 11, 25, 12, 0)
    acc = account(jurisdiction, sydney, currency="AUD",
                  invoices=[{"id": "I1", "amount": "800.00", "due_date": "2022-06-01"}])
    history = [ev("contact_attempt", now - timedelta(days=30), channel="letter", outcome="sent", stage="formal")]
    d = decide(acc, history, policy(), now)
    assert (d.action.type == "write_off") is barred
    assert ("au.time-barred" in rules(d)) is barred


def test_cease_communication_allows_only_the_final_notice_by_letter():
    now = local(NY, 2026, 11, 24, 12, 0)
    acc = account("US-CA", NY, invoices=[{"id": "I1", "amount": "800.00", "due_date": "2025-06-01"}])
    history = [ev("contact_attempt", now - timedelta(days=40), channel="letter", outcome="sent", stage="formal"),
               ev("cease_communication", now - timedelta(days=20))]
    d = decide(acc, history, policy(), now)
    assert d.action is not None and d.action.type == "legal_warning" and d.action.channel == "letter"
    # a reminder call is not a permitted final notice
    d = decide(account("US-CA", NY), [ev("cease_communication", now - timedelta(days=1))], policy(), now)
    assert d.action is None and "stop.cease_communication" in rules(d)
    # outside the US a cease request stops everything
    uk = account("GB-ENG", "Europe/London", invoices=[{"id": "I1", "amount": "800.00", "due_date": "2025-06-01"}])
    assert decide(uk, history, policy(), now).action is None


def test_new_york_city_needs_consent_for_email_after_september_2026():
    now = local(NY, 2026, 11, 24, 12, 0)
    acc = account("US-NY-NYC", NY)
    d = decide(acc, [started(now - timedelta(days=2))], policy("email, letter"), now)
    assert d.action.channel == "letter"
    consent = ev("consent_given", now - timedelta(days=3), channel="email")
    d = decide(acc, [started(now - timedelta(days=2)), consent], policy("email, letter"), now)
    assert d.action.channel == "email"
    before = local(NY, 2026, 8, 20, 12, 0)
    acc_early = account("US-NY-NYC", NY, invoices=[{"id": "I1", "amount": "800.00", "due_date": "2026-07-01"}])
    d = decide(acc_early, [started(before - timedelta(days=2))], policy("email, letter"), before)
    assert d.action.channel == "email"


def test_new_york_city_caps_all_channels_at_three_a_week():
    now = local(NY, 2026, 11, 24, 12, 0)
    history = [started(now - timedelta(days=6)),
               ev("contact_attempt", now - timedelta(days=2), channel="letter", outcome="sent", stage="calls"),
               ev("contact_attempt", now - timedelta(days=1), channel="letter", outcome="sent", stage="calls")]
    history += calls([now - timedelta(days=3)])
    d = decide(account("US-NY-NYC", NY), history, policy(), now)
    assert d.action is None and "us-nyc.contacts-3-in-7" in rules(d)


def test_validation_notice_is_carried_by_the_first_message_and_then_enforced():
    now = local(NY, 2026, 11, 24, 12, 0)
    d = decide(account("US-CA", NY), [], policy("email"), now)
    assert {"validation_notice", "first_message", "opt_out"} <= set(d.action.content)
    # first contact ten days ago and no notice: calls stop, a written message may carry it
    old = [ev("contact_attempt", now - timedelta(days=10), channel="call", outcome="queued", stage="calls")] + \
        calls([now - timedelta(days=10)])
    d = decide(account("US-CA", NY), old, policy(), now)
    assert d.action is None and "us-regf.validation-notice" in rules(d)
    d = decide(account("US-CA", NY), old, policy("call, letter"), now)
    assert d.action.channel == "letter" and "validation_notice" in d.action.content
    sent = old + [ev("validation_notice_sent", now - timedelta(days=9))]
    d = decide(account("US-CA", NY), sent, policy(), now)
    assert d.action.channel == "call" and "validation_notice" not in d.action.content


def test_fdcpa_only_applies_when_the_policy_says_so():
    text = CALL_POLICY.replace("CHANNELS", "call").replace("fdcpa_applies: true", "fdcpa_applies: false")
    off = load_policy(text, filename="off.yaml")
    now = local(NY, 2026, 11, 24, 7, 0)
    d = decide(account("US-CA", NY), [started(now - timedelta(days=2))], off, now)
    assert d.action.not_before == now and d.profiles == ("us-limitations",)
    d = decide(account("US-CA", NY), [started(now - timedelta(days=2))], policy(), now)
    assert d.profiles == ("us-fdcpa-regf", "us-limitations")


def test_profiles_are_named_in_the_decision_and_checked_in_the_trace():
    now = local(NY, 2026, 11, 24, 12, 0)
    d = decide(account("US-MA", NY), [started(now - timedelta(days=2))], policy(), now)
    assert d.profiles == ("us-fdcpa-regf", "us-limitations", "us-ma")
    checks = {t.step: t.outcome for t in d.trace if t.step.startswith("check us-")}
    assert checks["check us-regf.call-7-in-7"] == "clear"
    assert checks["check us-ma.hours"] == "clear"


def test_a_policy_naming_an_unknown_profile_is_refused_with_its_position():
    text = CALL_POLICY.replace("CHANNELS", "call").replace("profiles: [auto]", "profiles: [auto, us-fdpca-regf]")
    with pytest.raises(PolicyError) as err:
        load_policy(text, filename="bad.yaml")
    message = str(err.value)
    assert "bad.yaml:" in message and "unknown profile 'us-fdpca-regf'" in message
    assert "did you mean 'us-fdcpa-regf'" in message


def test_a_policy_can_add_a_profile_but_not_remove_one():
    forced = load_policy(CALL_POLICY.replace("CHANNELS", "call").replace("profiles: [auto]", "profiles: [us-ma]"),
                         filename="forced.yaml")
    now = local(NY, 2026, 11, 24, 12, 0)
    d = decide(account("US-CA", NY), [started(now - timedelta(days=2))], forced, now)
    assert d.profiles == ("us-fdcpa-regf", "us-limitations", "us-ma")   # US-CA keeps the federal rules


def test_no_interest_accrues_for_the_days_of_a_breathing_space():
    pol = load_policy(ROOT / "policies" / "default.yaml")
    acc = Account.from_dict({"id": "B", "currency": "GBP", "jurisdiction": "GB-ENG", "debtor_type": "business",
                             "timezone": "Europe/London", "contact": {"email": "b@example.com"},
                             "invoices": [{"id": "I1", "amount": "5000.00", "due_date": "2026-08-01"}]})
    start = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)           # local day 2026-10-01
    at = datetime(2027, 1, 15, 12, 0, tzinfo=UTC)
    plain = decide(acc, [], pol, at).fees.interest.amount
    after = decide(acc, [ev("breathing_space", start)], pol, at).fees.interest.amount
    # 167 days overdue; the breathing space covers 2026-10-01 .. 2026-11-30 (61 days)
    assert plain == (Decimal("5000") * Decimal("0.12") * 167 / 365).quantize(Decimal("0.01"))
    assert after == (Decimal("5000") * Decimal("0.12") * (167 - 61) / 365).quantize(Decimal("0.01"))


def test_unknown_profile_is_reported_together_with_other_problems():
    text = (CALL_POLICY.replace("CHANNELS", "call").replace("profiles: [auto]", "profiles: [us-fdpca-regf]")
            .replace("max_attempts: 60", "max_attempts: many"))
    with pytest.raises(PolicyError) as err:
        load_policy(text, filename="bad.yaml")
    messages = [p.message for p in err.value.problems]
    assert any("unknown profile 'us-fdpca-regf'" in m for m in messages)
    assert any("many" in m for m in messages)


def test_policy_amounts_beyond_twelve_digits_are_refused():
    text = (ROOT / "policies" / "default.yaml").read_text().replace('floor: "100.00"', 'floor: "100000000000000000"')
    with pytest.raises(PolicyError, match="at most 12 digits"):
        load_policy(text, filename="huge.yaml")


def test_a_cease_request_steers_the_permitted_final_notice_to_a_letter():
    text = CALL_POLICY.replace("CHANNELS", "call").replace(
        "{id: legal, days_past_due: 500, action: legal_warning, channels: [letter]",
        "{id: legal, days_past_due: 500, action: legal_warning, channels: [email, letter]")
    pol = load_policy(text, filename="cease.yaml")
    now = local(NY, 2026, 11, 24, 12, 0)
    acc = account("US-CA", NY, invoices=[{"id": "I1", "amount": "800.00", "due_date": "2025-06-01"}])
    history = [ev("contact_attempt", now - timedelta(days=40), channel="letter", outcome="sent", stage="formal"),
               ev("cease_communication", now - timedelta(days=20))]
    d = decide(acc, history, pol, now)
    assert d.action is not None and d.action.channel == "letter"


def test_us_time_bar_applies_even_without_the_fdcpa_profile():
    text = CALL_POLICY.replace("CHANNELS", "call").replace("fdcpa_applies: true", "fdcpa_applies: false")
    pol = load_policy(text, filename="creditor.yaml")
    now = local(NY, 2026, 11, 24, 12, 0)
    acc = account("US-MA", NY, invoices=[{"id": "I1", "amount": "800.00", "due_date": "2023-05-01"}])
    history = [ev("contact_attempt", now - timedelta(days=30), channel="letter", outcome="sent", stage="formal")]
    d = decide(acc, history, pol, now)
    assert d.action.type == "write_off" and "us-limitations.time-barred" in rules(d)
