"""Edges of the rule kinds that the scenario tests left open (found by the mutation run).

Each test states, from the rule's own text, a case just outside what the rule covers, so a
rule that reaches too far (or not far enough) fails here.
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from arrears.engine import Batch, decide, decide_batch
from tests.test_guardrails import CALL_POLICY, NY, account, calls, ev, local, policy, rules, started


def with_profile(tmp_path, name: str, text: str, policy_text: str | None = None):
    """The CALLS policy (or `policy_text`) under the shipped profiles plus one test profile."""
    import shutil

    from arrears.engine import load_policy
    from arrears.policies import PROFILES_DIR
    from tests.test_guardrail_examples import CALLS

    profiles = tmp_path / "profiles"
    shutil.copytree(PROFILES_DIR, profiles)
    (profiles / f"{name}.yaml").write_text(text)
    return load_policy(policy_text or CALLS, filename="calls.yaml", profiles_dir=profiles)


def test_only_a_conversation_starts_the_quiet_period_after_a_conversation():
    """12 CFR 1006.14(b)(2)(i)(B): seven days after a telephone *conversation*; an unanswered call
    the day before is no conversation, so today's call is allowed."""
    now = local(NY, 2026, 11, 24, 12, 0)
    history = [started(now - timedelta(days=6)), ev("validation_notice_sent", now - timedelta(days=6))]
    history += calls([now - timedelta(days=1)], outcome="no_answer")
    d = decide(account("US-CA", NY), history, policy(), now)
    assert d.action is not None and d.action.channel == "call"
    assert "us-regf.call-after-conversation" not in rules(d)


def test_a_state_rule_reads_in_force_only_while_its_state_is():
    """A rule tied to a state (AU: represented debtors) says "in force" in the trace while the
    debtor is represented, and "clear" otherwise."""
    sydney = "Australia/Sydney"
    now = local(sydney, 2026, 11, 24, 12, 0)
    acc = account("AU-NSW", sydney, currency="AUD")
    trace = lambda history: {t.step: t.outcome for t in decide(acc, history, policy(), now).trace}
    assert trace([])["check au.represented"] == "clear"
    assert trace([ev("represented", now - timedelta(days=3))])["check au.represented"] == "in force"


def test_a_cap_of_one_allows_one_call_per_window(tmp_path):
    """`max: 1` is a cap like any other: one call in the window, the next once it has aged out."""
    import shutil

    from arrears.engine import load_policy
    from arrears.policies import PROFILES_DIR
    from tests.test_guardrail_examples import CALLS, DEBTOR_CAP, SYDNEY
    from tests.test_guardrail_examples import account as au_account
    from tests.test_guardrail_examples import started as au_started

    profiles = tmp_path / "profiles"
    shutil.copytree(PROFILES_DIR, profiles)
    (profiles / "test-one-call.yaml").write_text(
        DEBTOR_CAP.replace("max: 2", "max: 1").replace("scope: debtor", "scope: account"))
    one_call = load_policy(CALLS, filename="calls.yaml", profiles_dir=profiles)
    now = local(SYDNEY, 2026, 11, 25, 12, 0)                   # Wednesday noon
    called = now - timedelta(days=2)
    history = [au_started(now - timedelta(days=4)),
               ev("contact_attempt", called, channel="call", outcome="no_answer", stage="calls")]
    d = decide(au_account("A"), history, one_call, now)
    assert d.action is None
    assert {s.rule: s.until for s in d.suppressions}["test.debtor-calls"] == called + timedelta(days=7)
    assert decide(au_account("A"), history[:1], one_call, now).action is not None


@pytest.mark.parametrize("minute", [30, 60])
def test_the_weekend_window_holds_in_every_zone_of_a_multi_zone_debtor(minute):
    """AU phone hours are 09:00-21:00 at weekends. A Sydney debtor also known in Brisbane (an hour
    behind in summer): at 09:30 on Sunday in Sydney it is 08:30 in Brisbane, so the call waits
    for 09:00 in Brisbane, 10:00 in Sydney; at 10:00 itself it goes at once."""
    from arrears.engine import load_policy
    from tests.test_guardrail_examples import CALLS, SYDNEY
    from tests.test_guardrail_examples import account as au_account
    from tests.test_guardrail_examples import started as au_started

    now = local(SYDNEY, 2026, 11, 29, 9, 0) + timedelta(minutes=minute)     # Sunday
    acc = au_account("A", other_timezones=["Australia/Brisbane"])
    d = decide(acc, [au_started(now - timedelta(days=2))], load_policy(CALLS, filename="calls.yaml"), now)
    assert d.action is not None
    assert d.action.not_before == local(SYDNEY, 2026, 11, 29, 10, 0)


CONSENT_FROM_WEDNESDAY = """
id: test-consent
name: Calls need consent from Wednesday (test)
applies_to:
  jurisdictions: [NZ]
rules:
  - id: test.consent-from-wednesday
    kind: consent_required
    channels: [call]
    effective_from: 2026-11-25
    source: test
"""


def test_a_rule_that_starts_on_a_date_bites_only_where_it_applies(tmp_path):
    """A consent rule starting on Wednesday (for New Zealand) blocks a call deferred into
    Wednesday only for the accounts it applies to: an Australian call deferred from Tuesday night
    to Wednesday 07:30 still goes out."""

    from tests.test_guardrail_examples import SYDNEY
    from tests.test_guardrail_examples import account as au_account
    from tests.test_guardrail_examples import started as au_started

    p = with_profile(tmp_path, "test-consent", CONSENT_FROM_WEDNESDAY)
    now = local(SYDNEY, 2026, 11, 24, 22, 0)                    # Tuesday night: AU calls wait
    history = [au_started(now - timedelta(days=2))]
    # One batch, as the tick decides them: the rule is in play for the batch, not for A.
    au, nz = decide_batch(Batch.from_objects(
        [au_account("A"), au_account("B", jurisdiction="NZ", timezone="Pacific/Auckland")],
        [history, history]), p, now).decisions()
    assert au.action is not None and au.action.not_before == local(SYDNEY, 2026, 11, 25, 7, 30)
    assert nz.action is None
    assert "test.consent-from-wednesday" in {s.rule for s in nz.suppressions}


def test_the_quiet_period_holds_in_a_batch_where_only_some_debtors_talked():
    """Decided together, as the tick does: the account with yesterday's conversation waits, the
    other calls now."""
    now = local(NY, 2026, 11, 24, 12, 0)
    base = [started(now - timedelta(days=6)), ev("validation_notice_sent", now - timedelta(days=6))]
    talked = base + calls([now - timedelta(days=1)], outcome="conversation")
    a = account("US-CA", NY)
    quiet, free = decide_batch(Batch.from_objects([a, account("US-CA", NY, id="B")], [talked, base]),
                               policy(), now).decisions()
    assert quiet.action is None and "us-regf.call-after-conversation" in rules(quiet)
    assert free.action is not None and free.action.not_before == now


def test_only_a_conversation_on_a_listed_channel_starts_the_quiet_period():
    """Reg F's seven days follow a *telephone* conversation: one by SMS does not start them."""
    now = local(NY, 2026, 11, 24, 12, 0)
    history = [started(now - timedelta(days=6)), ev("validation_notice_sent", now - timedelta(days=6)),
               ev("contact_outcome", now - timedelta(days=1), channel="sms", outcome="conversation")]
    d = decide(account("US-CA", NY), history, policy(), now)
    assert d.action is not None and "us-regf.call-after-conversation" not in rules(d)


def test_a_debtor_cap_counts_calls_on_their_accounts_elsewhere(tmp_path):
    """A per-debtor cap (AU, 2 calls in 7 days) counts the calls made on the same debtor's New
    Zealand account too: it is the same person being called."""

    from tests.test_guardrail_examples import DEBTOR_CAP, SYDNEY
    from tests.test_guardrail_examples import account as au_account
    from tests.test_guardrail_examples import started as au_started

    p = with_profile(tmp_path, "test-debtor-cap", DEBTOR_CAP)
    now = local(SYDNEY, 2026, 11, 25, 12, 0)
    one, two = now - timedelta(days=3), now - timedelta(days=1)
    nz_calls = [au_started(one), ev("contact_attempt", one, channel="call", outcome="no_answer", stage="calls"),
                ev("contact_attempt", two, channel="call", outcome="no_answer", stage="calls")]
    au, _nz = decide_batch(Batch.from_objects(
        [au_account("A", debtor_id="D1"), au_account("B", debtor_id="D1", jurisdiction="NZ")],
        [[au_started(now - timedelta(days=2))], nz_calls]), p, now).decisions()
    assert au.action is None
    assert {s.rule: s.until for s in au.suppressions}["test.debtor-calls"] == one + timedelta(days=7)


@pytest.mark.parametrize("counts, words", [("attempts", "at most 2 attempts by call in 7 days per debtor"),
                                           ("contacts", ("at most 2 contacts that reached the debtor by call "
                                                         "in 7 days per debtor"))])
def test_a_cap_says_what_it_counts(tmp_path, counts, words):

    from tests.test_guardrail_examples import DEBTOR_CAP

    p = with_profile(tmp_path, "test-debtor-cap", DEBTOR_CAP.replace("counts: attempts", f"counts: {counts}"))
    (rule,) = p.profiles["test-debtor-cap"].rules
    assert rule.describe() == words


@pytest.mark.parametrize("start, end", [("21:00", "08:00"), ("08:00", "08:00")])
def test_a_window_must_open_before_it_closes(tmp_path, start, end):
    import shutil

    from arrears.engine import load_policy
    from arrears.engine.domain.errors import PolicyError
    from arrears.policies import PROFILES_DIR
    from tests.test_guardrail_examples import CALLS

    profiles = tmp_path / "profiles"
    shutil.copytree(PROFILES_DIR, profiles)
    (profiles / "test-window.yaml").write_text(f"""
id: test-window
name: A window (test)
applies_to: {{jurisdictions: [NZ]}}
rules:
  - id: test.window
    kind: contact_window
    channels: [call]
    weekdays: {{start: "{start}", end: "{end}"}}
    weekends: {{start: "09:00", end: "17:00"}}
    source: test
""")
    with pytest.raises(PolicyError) as err:
        load_policy(CALLS, filename="calls.yaml", profiles_dir=profiles)
    assert f"start {start} must be before end {end}" in str(err.value)


def test_a_dated_consent_rule_bites_from_its_first_day(tmp_path):
    """`effective_from: 2026-11-25`: on that local day a call without consent is already barred."""

    from tests.test_guardrail_examples import account as au_account
    from tests.test_guardrail_examples import started as au_started

    p = with_profile(tmp_path, "test-consent", CONSENT_FROM_WEDNESDAY)
    auckland = "Pacific/Auckland"
    nz = au_account("B", jurisdiction="NZ", timezone=auckland)
    wednesday = local(auckland, 2026, 11, 25, 12, 0)
    d = decide(nz, [au_started(wednesday - timedelta(days=2))], p, wednesday)
    assert d.action is None and "test.consent-from-wednesday" in rules(d)
    consented = [au_started(wednesday - timedelta(days=2)),
                 ev("consent_given", wednesday - timedelta(days=1), channel="call")]
    assert decide(nz, consented, p, wednesday).action is not None


def test_a_step_deferred_into_a_consent_rules_first_day_is_blocked_in_a_mixed_batch(tmp_path):
    """Tuesday in Auckland, a call made this morning: the daily repeat falls on Wednesday, the
    day consent becomes necessary, so it may not be queued for then. Decided in one batch with
    an Australian account the rule does not touch."""

    from tests.test_guardrail_examples import account as au_account
    from tests.test_guardrail_examples import started as au_started

    p = with_profile(tmp_path, "test-consent", CONSENT_FROM_WEDNESDAY)
    auckland = "Pacific/Auckland"
    now = local(auckland, 2026, 11, 24, 14, 0)                  # Tuesday afternoon in Auckland
    called = [au_started(now - timedelta(days=3)),
              ev("contact_attempt", now - timedelta(hours=4), channel="call", outcome="no_answer",
                 stage="calls")]
    au, nz = decide_batch(Batch.from_objects(
        [au_account("A"), au_account("B", jurisdiction="NZ", timezone=auckland)],
        [[au_started(now - timedelta(days=2))], called]), p, now).decisions()
    assert au.action is not None and au.action.not_before == now      # 12:00 in Sydney
    assert nz.action is None
    assert rules(nz)["test.consent-from-wednesday"].until == local(auckland, 2026, 11, 25, 0, 0)


def test_after_a_cease_request_only_the_allowed_final_notices_go_out():
    """FDCPA 1692c(c): after a request to stop, only the listed actions (legal warning, write-off)
    by letter. The formal notice, required as it is, is not one of them."""
    now = local(NY, 2026, 11, 24, 12, 0)
    ceased = [started(now - timedelta(days=30)), ev("validation_notice_sent", now - timedelta(days=30)),
              ev("cease_communication", now - timedelta(days=2))]
    acc = account("US-CA", NY, invoices=[{"id": "I1", "amount": "800.00", "due_date": "2025-09-01"}])
    d = decide(acc, ceased, policy("call, letter"), now)
    assert d.action is None                                   # the formal notice is held back
    assert {s.rule for s in d.suppressions} >= {"stop.cease_communication"}


def test_a_cease_rule_of_another_jurisdiction_adds_nothing():
    """A ceased debtor in England is stopped by the universal cease state alone: the US rule
    that lets final notices through neither applies nor shows."""
    now = local("Europe/London", 2026, 11, 24, 12, 0)
    ceased = [started(now - timedelta(days=30)), ev("cease_communication", now - timedelta(days=2))]
    # Decided in one batch with a US account, so the US rule is in play for the batch.
    gb, _us = decide_batch(Batch.from_objects([account("GB", "Europe/London"), account("US-CA", NY, id="B")],
                                              [ceased, [started(now - timedelta(days=2))]]),
                           policy("call, letter"), now).decisions()
    assert gb.action is None
    assert [s.rule for s in gb.suppressions] == ["stop.cease_communication"]


def test_the_eu_entitlements_name_the_accounts_late_invoices_and_long_terms():
    """Directive 2011/7/EU in the trace of a business account: 40 EUR per late invoice (only this
    account's open, overdue ones) and the invoices issued on terms over 60 days."""
    from arrears.engine import load_policy
    from arrears.policies import DEFAULT_POLICY

    now = local("Europe/Paris", 2026, 11, 24, 12, 0)
    invoices = [{"id": "LONG", "amount": "100.00", "issued_date": "2026-06-01", "due_date": "2026-09-01"},  # 92 days
                {"id": "EDGE", "amount": "100.00", "issued_date": "2026-07-03", "due_date": "2026-09-01"},  # 60
                {"id": "LATE", "amount": "100.00", "issued_date": "2026-10-01", "due_date": "2026-10-31"},
                {"id": "SOON", "amount": "100.00", "issued_date": "2026-11-20", "due_date": "2026-12-20"}]
    mine = account("FR", "Europe/Paris", debtor_type="business", currency="EUR", invoices=invoices)
    other = account("FR", "Europe/Paris", id="B", debtor_type="business", currency="EUR",
                    invoices=[{"id": "X", "amount": "50.00", "due_date": "2026-10-01"}])
    d, _ = decide_batch(Batch.from_objects([mine, other], [[], []]), load_policy(DEFAULT_POLICY), now).decisions()
    trace = {t.step: (t.outcome, t.detail) for t in d.trace}
    outcome, detail = trace["check eu.fixed-compensation"]
    assert outcome == "entitlement" and detail.endswith("; 3 late invoice(s)")
    outcome, detail = trace["check eu.payment-terms"]
    assert outcome == "entitlement" and detail.endswith("; terms over 60 days on LONG")


LIMITS = """
id: test-limits
name: Limitation periods (test)
applies_to: {jurisdictions: [NZ]}
rules:
  - id: test.time-barred
    kind: time_bar
    limitation_days: 3000
    blocked_actions: [legal_warning]
    overrides:
      - {jurisdictions: [NZ-AUK, NZ-WGN], limitation_days: 300}
    source: test
"""


@pytest.mark.parametrize("jurisdiction, barred", [("NZ-WGN", True), ("NZ-AUK", True), ("NZ-CAN", False)])
def test_a_limitation_override_covers_each_jurisdiction_it_lists(tmp_path, jurisdiction, barred):
    """An override listing Auckland and Wellington shortens the period in either of them."""
    import shutil

    from arrears.engine import load_policy
    from arrears.policies import PROFILES_DIR

    profiles = tmp_path / "profiles"
    shutil.copytree(PROFILES_DIR, profiles)
    (profiles / "test-limits.yaml").write_text(LIMITS)
    p = load_policy(CALL_POLICY.replace("CHANNELS", "call"), filename="guard.yaml", profiles_dir=profiles)
    auckland = "Pacific/Auckland"
    now = local(auckland, 2026, 11, 24, 12, 0)
    acc = account(jurisdiction, auckland, currency="NZD",
                  invoices=[{"id": "I1", "amount": "800.00", "due_date": "2025-06-01"}])   # 541 days
    history = [started(now - timedelta(days=500)),
               ev("contact_attempt", now - timedelta(days=40), channel="letter", outcome="sent", stage="formal")]
    d = decide(acc, history, p, now)
    if barred:
        assert d.action is None and "test.time-barred" in rules(d)
    else:
        assert d.action is not None and d.action.stage == "legal"


def test_content_rules_mark_only_the_channels_they_name():
    """US: the opt-out notice goes on emails and texts (Reg F 1006.6(e)), the validation notice on
    written messages (email, letter) until one is sent. A first text carries the opt-out only, a
    call neither."""
    now = local(NY, 2026, 11, 24, 12, 0)
    text = decide(account("US-CA", NY), [], policy("sms"), now)
    assert text.action.channel == "sms"
    assert "opt_out" in text.action.content and "validation_notice" not in text.action.content
    mail = decide(account("US-CA", NY), [], policy("email"), now)
    assert {"opt_out", "validation_notice"} <= set(mail.action.content)
    call = decide(account("US-CA", NY), [], policy("call"), now)
    assert call.action.channel == "call"
    assert "opt_out" not in call.action.content and "validation_notice" not in call.action.content


def test_a_national_holiday_rule_leaves_state_holidays_open():
    """The AU guideline's holiday rule has `scope: national`: Melbourne Cup Day (a Victorian
    holiday, 3 November 2026) stays open to a call in Victoria unless the policy asks for the
    state's own holidays (`compliance.state_holidays`, tests/test_contact_hours.py)."""
    from arrears.engine import load_policy
    from tests.test_guardrail_examples import CALLS
    from tests.test_guardrail_examples import account as au_account
    from tests.test_guardrail_examples import started as au_started

    melbourne = "Australia/Melbourne"
    now = local(melbourne, 2026, 11, 3, 12, 0)
    d = decide(au_account("A", jurisdiction="AU-VIC", timezone=melbourne),
               [au_started(now - timedelta(days=2))], load_policy(CALLS, filename="calls.yaml"), now)
    assert d.action is not None and d.action.not_before == now
