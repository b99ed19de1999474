"""Escalation under the default policy: thresholds, grace, one step at a time, required stages,
spacing, repeats, channels, and resumption after broken promises and missed instalments."""
from __future__ import annotations

import copy
from datetime import date, datetime, time, timedelta, timezone

import pytest

from arrears.engine.decisions.core import decide
from arrears.engine.policy.compiler import compile_policy
from tests.core_factories import NOW, days_ago, ev, make_account

MIDNIGHT_TOMORROW = datetime(2026, 11, 23, tzinfo=timezone.utc)    # London is on UTC in November


@pytest.fixture(scope="module")
def policy(policy_doc):
    """The shipped policy without its house contact hours: these tests judge the ladder and
    its timing at the suite's NOW, a Sunday afternoon, when the house hours contact no one
    (they have tests of their own: tests/test_contact_hours.py)."""
    doc = copy.deepcopy(policy_doc)
    doc["compliance"].pop("contact_hours")
    return compile_policy(doc)


def at(day, hour=10):
    return datetime.combine(day, time(hour), timezone.utc)


def sent(stage, ago, channel="email", outcome="sent", hour=10):
    """A contact attempt of `stage` `ago` days before today."""
    return ev("contact_attempt", at(days_ago(ago), hour), channel=channel, outcome=outcome, stage=stage)


def midnight(ago, tz="Europe/London"):
    """UTC instant of local midnight starting the day `ago` days before today (negative: ahead)."""
    from zoneinfo import ZoneInfo
    local = datetime.combine(days_ago(ago), time(0), ZoneInfo(tz))
    return local.astimezone(timezone.utc)


def trace_of(decision) -> dict:
    return {t.step: (t.outcome, t.detail) for t in decision.trace}


def step(decision):
    """(stage, attempt, channel, reason) of the action, or None."""
    a = decision.action
    return None if a is None else (a.stage, a.attempt, a.channel, a.reason)


# ---- thresholds and grace ----------------------------------------------------------------------

@pytest.mark.parametrize("dpd, expected", [
    (-4, None),
    (-3, ("pre_due_reminder", 1, "email", "next stage")),
    (0, ("pre_due_reminder", 1, "email", "next stage")),
])
def test_pre_due_reminder_three_days_before(policy, dpd, expected):
    d = decide(make_account(due_date=days_ago(dpd)), [], policy, NOW)
    assert d.days_past_due == dpd
    assert step(d) == expected
    if expected:
        assert d.action.not_before == NOW
        assert (d.action.type, d.action.template, d.action.tone) == ("reminder", "pre_due_reminder", "friendly")


def test_nothing_due_yet_is_looked_at_when_the_first_stage_falls_due(policy):
    d = decide(make_account(due_date=days_ago(-4)), [], policy, NOW)
    assert d.action is None and d.suppressions == ()
    assert d.next_evaluation_at == MIDNIGHT_TOMORROW        # the day it is 3 days before due


@pytest.mark.parametrize("account, grace", [
    ({}, 3),
    ({"debtor_type": "business"}, 5),
    ({"tags": ["vip"]}, 10),
    ({"relationship_tier": "strategic", "debtor_type": "business"}, 10),   # the largest grace wins
])
def test_grace_delays_the_friendly_reminder(policy, account, grace):
    history_for = lambda dpd: [sent("pre_due_reminder", dpd + 3)]          # noqa: E731
    # last day of grace: nothing goes out, and the grace is reported with its end
    d = decide(make_account(due_date=days_ago(grace), **account), history_for(grace), policy, NOW)
    assert d.action is None
    assert [(s.rule, s.until) for s in d.suppressions] == [("grace", MIDNIGHT_TOMORROW)]
    assert f"{grace} grace days" in d.suppressions[0].reason
    assert d.next_evaluation_at == MIDNIGHT_TOMORROW
    # the day after: the friendly reminder
    d = decide(make_account(due_date=days_ago(grace + 1), **account), history_for(grace + 1), policy, NOW)
    assert step(d) == ("friendly_reminder", 1, "email", "next stage")
    assert d.suppressions == ()


# ---- one step at a time, required stages ---------------------------------------------------------

def test_missed_ticks_produce_one_step_not_a_burst(policy):
    # the friendly reminder went out at 4 days past due; nobody looked since: now 40 days past due
    d = decide(make_account(due_date=days_ago(40)), [sent("friendly_reminder", 36)], policy, NOW)
    assert step(d) == ("personal_call", 1, "call", "next stage")
    trace = trace_of(d)
    assert trace["stage firm_reminder"][0] == "skipped"
    assert trace["stage friendly_reminder"][0] == "done"
    assert trace["stage formal_notice"][0] == "not yet due"
    # delivering it leaves nothing else due today
    d2 = decide(make_account(due_date=days_ago(40)),
                [sent("friendly_reminder", 36), sent("personal_call", 0, channel="call", hour=14)],
                policy, NOW + timedelta(minutes=1))
    assert d2.action is None or d2.action.not_before > NOW + timedelta(minutes=1)


@pytest.mark.parametrize("history", [[], [sent("friendly_reminder", 96)],
                                     [sent("friendly_reminder", 96), sent("personal_call", 70, "call")]])
def test_required_formal_notice_is_never_skipped(policy, history):
    # 100 days past due: legal_warning and agency_referral are due, formal_notice was never sent
    d = decide(make_account(due_date=days_ago(100)), history, policy, NOW)
    assert step(d) == ("formal_notice", 1, "letter", "required stage first")
    assert d.action.type == "formal_notice" and d.action.tone == "formal"


def test_after_formal_notice_legal_warning_waits_for_spacing(policy):
    acc = make_account(due_date=days_ago(100))
    d = decide(acc, [sent("formal_notice", 1, "letter")], policy, NOW)
    assert step(d) == ("legal_warning", 1, "letter", "required stage first")
    assert d.action.not_before == midnight(1 - 14)          # 14 days after the formal notice's day
    # looked at again by then at the latest (here the 7-day max_interval_days comes first)
    assert d.next_evaluation_at == NOW + timedelta(days=7) < d.action.not_before
    d = decide(acc, [sent("formal_notice", 14, "letter")], policy, NOW)
    assert d.action.stage == "legal_warning" and d.action.not_before == NOW


def test_after_both_required_stages_the_referral_follows(policy):
    history = [sent("formal_notice", 40, "letter"), sent("legal_warning", 20, "letter")]
    d = decide(make_account(due_date=days_ago(100)), history, policy, NOW)
    assert step(d) == ("agency_referral", 1, "crm", "next stage")
    assert d.action.channel_kind == "webhook" and d.action.type == "refer_to_agency"


# ---- spacing ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("tz, expected", [
    ("Europe/London", datetime(2026, 11, 25, 0, tzinfo=timezone.utc)),
    ("Australia/Sydney", datetime(2026, 11, 24, 13, tzinfo=timezone.utc)),     # 00:00 AEDT
    ("America/New_York", datetime(2026, 11, 25, 5, tzinfo=timezone.utc)),      # 00:00 EST
])
def test_min_days_since_previous_defers_to_local_midnight(policy, tz, expected):
    # friendly reminder on 20 Nov (local); firm_reminder needs 5 days since the previous contact
    history = [ev("contact_attempt", at(date(2026, 11, 20), 12), channel="email", outcome="sent",
                  stage="friendly_reminder")]
    d = decide(make_account(due_date=days_ago(16), timezone=tz), history, policy, NOW)
    assert d.action.stage == "firm_reminder"
    assert d.action.not_before == expected
    assert d.next_evaluation_at == expected


def test_spacing_across_a_midnight_dst_gap(policy):
    # Chile moves clocks from 24:00 on 5 Sep 2026 to 01:00 on 6 Sep 2026.
    from zoneinfo import ZoneInfo
    now = datetime(2026, 9, 3, 15, tzinfo=timezone.utc)
    acc = make_account(due_date="2026-08-15", timezone="America/Santiago")
    history = [ev("contact_attempt", datetime(2026, 9, 1, 14, tzinfo=timezone.utc), channel="email",
                  outcome="sent", stage="friendly_reminder")]
    d = decide(acc, history, policy, now)
    assert d.action.stage == "firm_reminder"
    assert d.action.not_before == datetime(2026, 9, 6, 4, tzinfo=timezone.utc)       # 01:00 -03
    assert d.action.not_before.astimezone(ZoneInfo("America/Santiago")).date() == date(2026, 9, 6)


# ---- repeats and attempts ----------------------------------------------------------------------

@pytest.mark.parametrize("history, dpd, expected, not_before", [
    # one friendly reminder 6 days ago: the repeat is due 7 days after it, tomorrow
    ([sent("friendly_reminder", 6)], 10, ("friendly_reminder", 2, "email", "repeat"), MIDNIGHT_TOMORROW),
    ([sent("friendly_reminder", 7)], 10, ("friendly_reminder", 2, "email", "repeat"), NOW),
    # failed attempts are not attempts: still the first, and the email is not tried again for
    # 24 hours (its default retry_after_hours): the SMS goes instead; a week later, email again
    ([sent("friendly_reminder", 0, outcome="failed", hour=8)], 10,
     ("friendly_reminder", 1, "sms", "next stage"), NOW),
    ([sent("friendly_reminder", 7, outcome="failed")], 10, ("friendly_reminder", 1, "email", "next stage"), NOW),
    # two firm reminders: max_attempts reached, and the call is not due before 30 days past due
    ([sent("friendly_reminder", 10), sent("firm_reminder", 7), sent("firm_reminder", 0, hour=8)], 22,
     None, None),
    # a queued call marks the stage as started: the next evaluation does not queue another one
    ([sent("friendly_reminder", 26), sent("personal_call", 0, "call", "queued", hour=8)], 30,
     ("personal_call", 2, "call", "repeat"), datetime(2026, 11, 25, tzinfo=timezone.utc)),
])
def test_repeat_cadence(policy, history, dpd, expected, not_before):
    d = decide(make_account(due_date=days_ago(dpd)), history, policy, NOW)
    assert step(d) == expected
    if expected:
        assert d.action.not_before == not_before


def test_max_attempts_ends_the_repeats(policy):
    history = [sent("friendly_reminder", 10), sent("friendly_reminder", 3)]
    d = decide(make_account(due_date=days_ago(14)), history, policy, NOW)
    assert d.action is None
    assert d.stage == "friendly_reminder"
    # looked at again the day the firm reminder falls due (15 days past due)
    assert d.next_evaluation_at == MIDNIGHT_TOMORROW


def test_personal_call_repeats_three_times(policy):
    acc = make_account(due_date=days_ago(40))
    calls = [sent("personal_call", 9, "call"), sent("personal_call", 2, "call")]
    d = decide(acc, calls, policy, NOW)
    assert step(d) == ("personal_call", 3, "call", "repeat")
    assert d.action.not_before == midnight(2 - 3)            # every 3 days: tomorrow
    d = decide(acc, calls + [sent("personal_call", 0, "call", hour=9)], policy, NOW)
    assert d.action is None


# ---- channels -----------------------------------------------------------------------------------------

FIRM = [sent("friendly_reminder", 16), sent("friendly_reminder", 9)]


@pytest.mark.parametrize("contact, extra, expected", [
    (None, [], "email"),
    # a failed attempt on email falls back to the next channel of the stage
    (None, [sent("firm_reminder", 0, "email", "failed", hour=8)], "letter"),
    # opted out of email
    (None, [ev("channel_opt_out", at(days_ago(30)), channel="email")], "letter"),
    # opted out then back in
    (None, [ev("channel_opt_out", at(days_ago(30)), channel="email"),
            ev("channel_opt_in", at(days_ago(20)), channel="email")], "email"),
    # no email address on file
    ({"address": "1 High St"}, [], "letter"),
    # the debtor prefers letters
    ({"email": "e@x", "address": "1 High St", "preferred_channels": ["letter"]}, [], "letter"),
    # preferring a kind the stage does not use changes nothing
    ({"email": "e@x", "address": "1 High St", "mobile": "+44", "preferred_channels": ["sms"]}, [], "email"),
])
def test_channel_choice(policy, contact, extra, expected):
    kwargs = {"contact": contact} if contact else {}
    d = decide(make_account(due_date=days_ago(20), **kwargs), FIRM + extra, policy, NOW)
    assert d.action.stage == "firm_reminder"
    assert d.action.channel == expected


def test_preferred_channel_is_honoured_for_the_friendly_reminder(policy):
    contact = {"email": "e@x", "mobile": "+447", "address": "1 High St", "preferred_channels": ["sms"]}
    d = decide(make_account(due_date=days_ago(5), contact=contact), [], policy, NOW)
    assert (d.action.channel, d.action.channel_kind) == ("sms", "sms")
    # opted out of the preferred channel: back to the stage's own order
    d = decide(make_account(due_date=days_ago(5), contact=contact),
               [ev("channel_opt_out", at(days_ago(2)), channel="sms")], policy, NOW)
    assert d.action.channel == "email"


def test_no_usable_channel_is_a_suppression_until_a_failed_one_is_retried(policy):
    # both channels of the firm reminder failed this morning: email is tried again 24 hours
    # after its failure, the letter a week after (their kinds' default retry_after_hours)
    extra = [sent("firm_reminder", 0, "email", "failed", hour=8),
             sent("firm_reminder", 0, "letter", "failed", hour=9)]
    acc = make_account(due_date=days_ago(20))
    d = decide(acc, FIRM + extra, policy, NOW)
    retry = datetime(2026, 11, 23, 8, tzinfo=timezone.utc)
    assert d.action is None
    assert [(s.rule, s.until) for s in d.suppressions] == [("channel.unavailable", retry)]
    assert d.suppressions[0].reason == (
        "no usable channel (email: failed, tried again from 2026-11-23T08:00:00Z; "
        "letter: failed, tried again from 2026-11-29T09:00:00Z)")
    assert d.next_evaluation_at == retry
    # at that moment the email goes out, still the stage's first attempt
    d = decide(acc, FIRM + extra, policy, retry)
    assert step(d) == ("firm_reminder", 1, "email", "next stage") and d.action.not_before == retry
    # a channel that cannot be retried (no address on file) leaves no end to the wait
    acc = make_account(due_date=days_ago(20), contact={"email": "e@x"})
    d = decide(acc, FIRM + extra, policy, NOW)
    assert [(s.rule, s.until) for s in d.suppressions] == [("channel.unavailable", retry)]
    d = decide(acc, FIRM + [ev("channel_opt_out", at(days_ago(3)), channel="email")], policy, NOW)
    assert [(s.rule, s.until) for s in d.suppressions] == [("channel.unavailable", None)]
    assert d.suppressions[0].reason == ("no usable channel (email: contact details missing or opted out; "
                                        "letter: contact details missing or opted out)")


def test_a_channel_retry_time_is_set_per_channel_in_the_policy(policy_doc):
    from arrears.engine.policy.compiler import compile_policy
    doc = copy.deepcopy(policy_doc)
    doc["channels"]["email"]["retry_after_hours"] = 72
    custom = compile_policy(doc)
    extra = [sent("firm_reminder", 0, "email", "failed", hour=8),
             sent("firm_reminder", 0, "letter", "failed", hour=9)]
    d = decide(make_account(due_date=days_ago(20)), FIRM + extra, custom, NOW)
    assert [(s.rule, s.until) for s in d.suppressions] == [
        ("channel.unavailable", datetime(2026, 11, 25, 8, tzinfo=timezone.utc))]


# ---- resumption ---------------------------------------------------------------------------------------

def test_broken_promise_resumes_at_firm_reminder(policy):
    # 12 days past due: by the calendar only the friendly reminder is due
    history = [sent("friendly_reminder", 8),
               ev("promise_to_pay", at(days_ago(7)), amount="1000.00", until=str(days_ago(4)))]
    d = decide(make_account(due_date=days_ago(12)), history, policy, NOW)
    assert step(d) == ("firm_reminder", 1, "email", "resume after broken promise")


def test_open_promise_pauses_then_lapses(policy):
    history = [sent("friendly_reminder", 8),
               ev("promise_to_pay", at(days_ago(7)), amount="1000.00", until=str(days_ago(2)))]
    d = decide(make_account(due_date=days_ago(12)), history, policy, NOW)
    assert d.action is None
    assert [(s.rule, s.until) for s in d.suppressions] == [("pause.promise_to_pay", MIDNIGHT_TOMORROW)]
    assert d.next_evaluation_at == MIDNIGHT_TOMORROW
    d = decide(make_account(due_date=days_ago(12)), history, policy, MIDNIGHT_TOMORROW)
    assert step(d) == ("firm_reminder", 1, "email", "resume after broken promise")


def test_missed_plan_instalment_resumes_at_formal_notice(policy):
    plan = ev("payment_plan", at(days_ago(7)),
              instalments=[{"due_date": str(days_ago(4)), "amount": "500"},
                           {"due_date": str(days_ago(-26)), "amount": "500"}])
    d = decide(make_account(due_date=days_ago(12)), [sent("friendly_reminder", 8), plan], policy, NOW)
    assert step(d) == ("formal_notice", 1, "letter", "resume after missed plan instalment")


def test_missed_instalment_does_not_cause_a_hot_loop(policy):
    # Regression: the missed instalment's check day stayed in the past, so the account was
    # due for evaluation again every 60 seconds, forever.
    plan = ev("payment_plan", at(days_ago(7)),
              instalments=[{"due_date": str(days_ago(4)), "amount": "500"},
                           {"due_date": str(days_ago(-26)), "amount": "500"}])
    history = [sent("friendly_reminder", 8), plan, sent("formal_notice", 0, "letter", hour=12)]
    later = NOW + timedelta(minutes=5)
    d = decide(make_account(due_date=days_ago(12)), history, policy, later)
    assert d.action is None or d.action.not_before > later
    assert d.next_evaluation_at >= MIDNIGHT_TOMORROW


# ---- segments excluded by `when` --------------------------------------------------------------------------

def test_small_balances_get_no_pre_due_reminder(policy):
    d = decide(make_account(due_date=days_ago(-3), amount="49.99"), [], policy, NOW)
    assert d.action is None
    assert trace_of(d)["stage pre_due_reminder"][0] == "not applicable"
    assert d.next_evaluation_at == midnight(-3 - 4)       # the friendly reminder's day (due + grace + 1)


def test_small_balances_skip_notices_and_calls(policy):
    history = [sent("friendly_reminder", 96), sent("firm_reminder", 85), sent("firm_reminder", 78)]
    d = decide(make_account(due_date=days_ago(100), amount="40.00"), history, policy, NOW)
    assert d.action is None and d.stage == "firm_reminder"
    trace = trace_of(d)
    for stage in ("personal_call", "formal_notice", "legal_warning", "agency_referral"):
        assert trace[f"stage {stage}"][0] == "not applicable", stage
    assert d.next_evaluation_at == NOW + timedelta(days=7)   # max_interval_days


def test_small_balance_at_write_off_age(policy):
    history = [sent("friendly_reminder", 196), sent("firm_reminder", 185)]
    d = decide(make_account(due_date=days_ago(200), amount="40.00"), history, policy, NOW)
    assert step(d) == ("write_off_review", 1, "review", "next stage")
    assert d.action.channel_kind == "task"


def test_personal_call_only_for_business_or_large_balances(policy):
    history = [sent("friendly_reminder", 36)]
    consumer = decide(make_account(due_date=days_ago(40), amount="499.99"), history, policy, NOW)
    assert consumer.action.stage == "firm_reminder"
    business = decide(make_account(due_date=days_ago(40), amount="499.99", debtor_type="business"),
                      history, policy, NOW)
    assert business.action.stage == "personal_call"


def test_account_manager_and_language_flow_into_the_action(policy):
    acc = make_account(due_date=days_ago(5), language="de", account_manager="mia")
    assert (decide(acc, [], policy, NOW).action.language, decide(acc, [], policy, NOW).action.account_manager) \
        == ("de", "mia")
    # a language without a template falls back to the policy default
    acc = make_account(due_date=days_ago(35), language="de", debtor_type="business")
    d = decide(acc, [sent("friendly_reminder", 30)], policy, NOW)
    assert (d.action.template, d.action.language) == ("call_script", "en")
