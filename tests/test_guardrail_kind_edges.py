"""Edges of the rule kinds that the scenario tests left open (found by the mutation run).

Each test states, from the rule's own text, a case just outside what the rule covers, so a
rule that reaches too far (or not far enough) fails here.
"""
from __future__ import annotations

from datetime import timedelta

from arrears.engine import Batch, decide, decide_batch
from tests.test_guardrails import NY, account, calls, ev, local, policy, rules, started


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
    trace = lambda history: {t.step: t.outcome for t in decide(acc, history, policy(), now).trace}  # noqa: E731
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


def test_the_weekend_window_holds_in_every_zone_of_a_multi_zone_debtor():
    """AU phone hours are 09:00-21:00 at weekends. A Sydney debtor also known in Brisbane (an hour
    behind in summer): at 09:30 on Sunday in Sydney it is 08:30 in Brisbane, so the call waits
    for 09:00 in Brisbane, 10:00 in Sydney."""
    from arrears.engine import load_policy
    from tests.test_guardrail_examples import CALLS, SYDNEY
    from tests.test_guardrail_examples import account as au_account
    from tests.test_guardrail_examples import started as au_started

    now = local(SYDNEY, 2026, 11, 29, 9, 30)                    # Sunday
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
    import shutil

    from arrears.engine import load_policy
    from arrears.policies import PROFILES_DIR
    from tests.test_guardrail_examples import CALLS, SYDNEY
    from tests.test_guardrail_examples import account as au_account
    from tests.test_guardrail_examples import started as au_started

    profiles = tmp_path / "profiles"
    shutil.copytree(PROFILES_DIR, profiles)
    (profiles / "test-consent.yaml").write_text(CONSENT_FROM_WEDNESDAY)
    p = load_policy(CALLS, filename="calls.yaml", profiles_dir=profiles)
    now = local(SYDNEY, 2026, 11, 24, 22, 0)                    # Tuesday night: AU calls wait
    history = [au_started(now - timedelta(days=2))]
    # One batch, as the tick decides them: the rule is in play for the batch, not for A.
    au, nz = decide_batch(Batch.from_objects(
        [au_account("A"), au_account("B", jurisdiction="NZ", timezone="Pacific/Auckland")],
        [history, history]), p, now).decisions()
    assert au.action is not None and au.action.not_before == local(SYDNEY, 2026, 11, 25, 7, 30)
    assert nz.action is None
    assert "test.consent-from-wednesday" in {s.rule for s in nz.suppressions}
