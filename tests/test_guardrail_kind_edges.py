"""Edges of the rule kinds that the scenario tests left open (found by the mutation run).

Each test states, from the rule's own text, a case just outside what the rule covers, so a
rule that reaches too far (or not far enough) fails here.
"""
from __future__ import annotations

from datetime import timedelta

from arrears.engine import decide
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
