"""`breathing_space_repeat`: a breathing space begun within 12 months of the end of the
previous one is flagged for compliance staff, and still pauses collection.

England and Wales, Debt Respite Scheme Regulations 2020, reg 24(3)(g). The scenario table
uses the regulation's figures; the property compares every decision with the independent
oracle (tests/oracle.py) and holds the fail-safe: a flagged breathing space never lets an
action through.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arrears.engine import Account, Event, decide, load_policy
from arrears.engine.domain.batch import epoch_day
from arrears.engine.guardrails.kinds.breathing_space_repeat import add_months
from arrears.policies import DEFAULT_POLICY
from tests import oracle

UTC = timezone.utc
POLICY = load_policy(DEFAULT_POLICY)
POLICY_DOC = yaml.safe_load(DEFAULT_POLICY.read_text(encoding="utf-8"))
RULE = "uk-drs.once-in-12-months"


def account(jurisdiction="GB-ENG", tz="Europe/London", debtor_type="consumer"):
    return Account.from_dict({"id": "B", "currency": "GBP", "jurisdiction": jurisdiction, "timezone": tz,
                              "debtor_type": debtor_type, "contact": {"email": "b@example.com"},
                              "invoices": [{"id": "I1", "amount": "500.00", "due_date": "2026-08-01"}]})


def ev(type_, day: str, hour=9, **fields):
    at = datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)
    return Event.from_dict({"type": type_, "at": at.isoformat(), **fields})


def check_line(decision):
    return next(t for t in decision.trace if t.step == f"check {RULE}")


def held(decision):
    return next((s.reason for s in decision.suppressions if s.rule == "stop.breathing_space"), None)


# A standard breathing space from 2026-10-01 runs 60 days after its start day: last day 2026-11-30.
FIRST = ev("breathing_space", "2026-10-01")
SCENARIOS = {
    # name: (history, now, flagged -> (start, previous start, previous last day) or None)
    "second within 12 months of the first's end": (
        [FIRST, ev("breathing_space", "2027-03-01")], "2027-03-10",
        ("2027-03-01", "2026-10-01", "2026-11-30")),
    "on the anniversary of the end: not more than 12 months": (
        [FIRST, ev("breathing_space", "2027-11-30")], "2027-12-05",
        ("2027-11-30", "2026-10-01", "2026-11-30")),
    "the day after the anniversary": ([FIRST, ev("breathing_space", "2027-12-01")], "2027-12-05", None),
    "ended early: 12 months run from the day before the end": (
        [FIRST, ev("breathing_space_ended", "2026-10-21"), ev("breathing_space", "2027-10-20")],
        "2027-10-25", ("2027-10-20", "2026-10-01", "2026-10-20")),
    "ended early, begun after the anniversary": (
        [FIRST, ev("breathing_space_ended", "2026-10-21"), ev("breathing_space", "2027-10-21")],
        "2027-10-25", None),
    "the previous one's until date is its end": (
        [ev("breathing_space", "2026-10-01", until="2027-01-31"), ev("breathing_space", "2028-01-20")],
        "2028-01-25", ("2028-01-20", "2026-10-01", "2027-01-31")),
    "notified while the previous one is still in force": (
        [FIRST, ev("breathing_space", "2026-11-15")], "2026-11-20",
        ("2026-11-15", "2026-10-01", "2026-11-30")),
    "a last day of 29 February ends 12 months later on 28 February": (
        [ev("breathing_space", "2027-12-31"), ev("breathing_space", "2028-02-28")], "2028-03-01",
        ("2028-02-28", "2027-12-31", "2028-02-29")),
    "flagged only while the latest one is in force": (
        [FIRST, ev("breathing_space", "2027-03-01"), ev("breathing_space_ended", "2027-03-20")],
        "2027-03-25", None),
    "one breathing space is never a repeat": ([FIRST], "2026-10-10", None),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_repeats_are_flagged_with_their_dates_and_still_pause_collection(name):
    history, now, flagged = SCENARIOS[name]
    d = decide(account(), history, POLICY, datetime.fromisoformat(now).replace(hour=12, tzinfo=UTC))
    assert "uk-debt-respite" in d.profiles
    line = check_line(d)
    in_force = held(d) is not None
    if flagged is None:
        assert line.outcome == "clear", line
        assert held(d) is None or "months of the end of the previous one" not in held(d)
    else:
        assert line.outcome == "check notice"
        start, previous, last_day = flagged
        words = f"began on {start}, within 12 months of the end of the previous one (from {previous}, " \
                f"last day {last_day}); still honoured; check the notice"
        assert line.detail.startswith(f"breathing space {words} [Debt Respite Scheme")
        assert held(d).endswith("; " + words)
    # fail-safe: whatever the flag says, a breathing space in force pauses collection
    if in_force:
        assert d.action is None and d.fees.frozen
    assert oracle.violations(account(), history, d.evaluated_at, d, POLICY_DOC) == []


def test_scotland_and_northern_ireland_are_outside_the_scheme_but_still_paused():
    history = [FIRST, ev("breathing_space", "2027-03-01")]
    for jurisdiction in ("GB-SCT", "GB-NIR"):
        d = decide(account(jurisdiction), history, POLICY, datetime(2027, 3, 10, 12, tzinfo=UTC))
        assert "uk-debt-respite" not in d.profiles
        assert d.action is None and "months of the end" not in held(d)


def test_a_business_debtor_is_flagged_too():
    """Sole traders' business debts qualify for a breathing space."""
    d = decide(account(debtor_type="business"), [FIRST, ev("breathing_space", "2027-03-01")], POLICY,
               datetime(2027, 3, 10, 12, tzinfo=UTC))
    assert check_line(d).outcome == "check notice" and d.action is None


def test_the_local_day_counts():
    """A start at 23:30 UTC on 30 November 2027 is 1 December in Sydney: after the anniversary."""
    history = [FIRST, ev("breathing_space", "2027-11-30", hour=23)]
    now = datetime(2027, 12, 5, 12, tzinfo=UTC)
    assert check_line(decide(account(), history, POLICY, now)).outcome == "check notice"
    assert check_line(decide(account(tz="Australia/Sydney"), history, POLICY, now)).outcome == "clear"


@pytest.mark.parametrize("day, months, expected", [
    ("2026-11-30", 12, "2027-11-30"), ("2028-02-29", 12, "2029-02-28"), ("2027-01-31", 1, "2027-02-28"),
    ("2028-01-31", 1, "2028-02-29"), ("2027-12-15", 14, "2029-02-15")])
def test_months_are_calendar_months(day, months, expected):
    d = date.fromisoformat(day)
    assert add_months(np.array([epoch_day(d)]), months)[0] == epoch_day(date.fromisoformat(expected))
    assert oracle.add_months(d, months) == date.fromisoformat(expected)


T0 = datetime(2026, 1, 1, tzinfo=UTC)


@st.composite
def histories(draw):
    """Two or three breathing spaces, sometimes ended or with an end date, and an instant after."""
    events, t = [], T0 + timedelta(minutes=draw(st.integers(0, 60 * 24 * 30)))
    for _ in range(draw(st.integers(2, 3))):
        fields = {}
        if draw(st.integers(0, 3)) == 0:
            fields["until"] = (t.date() + timedelta(days=draw(st.integers(0, 120)))).isoformat()
        events.append(Event.from_dict({"type": "breathing_space", "at": t.isoformat(), **fields}))
        if draw(st.integers(0, 2)) == 0:
            end = t + timedelta(minutes=draw(st.integers(0, 60 * 24 * 90)))
            events.append(Event.from_dict({"type": "breathing_space_ended", "at": end.isoformat()}))
            t = max(t, end)
        # gaps around the 12-month line, and close repeats
        t += timedelta(minutes=draw(st.one_of(st.integers(0, 60 * 24 * 200),
                                              st.integers(60 * 24 * 400, 60 * 24 * 480))))
    now = t - timedelta(minutes=draw(st.integers(0, 60 * 24 * 500))) + timedelta(days=30)
    events.sort(key=lambda e: e.at)
    return events, now


@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(case=histories(), where=st.sampled_from([("GB-ENG", "Europe/London"), ("GB-WLS", "Europe/London"),
                                                ("GB-ENG", "America/New_York"), ("GB-SCT", "Europe/London")]))
def test_every_decision_agrees_with_the_oracle_and_a_repeat_never_lets_an_action_through(case, where):
    events, now = case
    acc = account(*where)
    d = decide(acc, events, POLICY, now)
    assert oracle.violations(acc, events, now, d, POLICY_DOC) == []
    if any(t.step == f"check {RULE}" and t.outcome == "check notice" for t in d.trace):
        assert d.action is None and held(d) is not None


def test_each_account_of_a_batch_is_judged_on_its_own_breathing_spaces():
    """Decided together, as the tick does: two English accounts with a repeat each are both
    flagged, and a Scottish one (outside the scheme) with the same history is not."""
    from arrears.engine import Batch, decide_batch

    def acc(id_, jurisdiction="GB-ENG"):
        return Account.from_dict({"id": id_, "currency": "GBP", "jurisdiction": jurisdiction,
                                  "timezone": "Europe/London", "contact": {"email": "b@example.com"},
                                  "invoices": [{"id": "I1", "amount": "500.00", "due_date": "2026-08-01"}]})

    history = [FIRST, ev("breathing_space", "2027-03-01")]
    now = datetime(2027, 3, 10, 12, tzinfo=UTC)
    scot, one, two = decide_batch(Batch.from_objects([acc("S", "GB-SCT"), acc("E1"), acc("E2")],
                                                     [history, history, history]), POLICY, now).decisions()
    assert check_line(one).outcome == check_line(two).outcome == "check notice"
    assert "months of the end" not in held(scot)
