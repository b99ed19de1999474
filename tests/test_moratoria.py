"""UK moratoria (issue 11 item 6): no interest and no late fee for any moratorium's days,
even after it ended; the mental health crisis moratorium lasts the crisis treatment plus
30 days, with no fixed length and no 12-month limit. Exact amounts under the shipped policy
(business debtors: fixed compensation 40/70/100 per late invoice, interest 4% + 8% a year)."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest
import yaml

from arrears.engine import Account, Event, decide, load_policy
from arrears.engine.decisions.explain import render_text
from arrears.policies import DEFAULT_POLICY
from tests import oracle

UTC = timezone.utc
POLICY = load_policy(DEFAULT_POLICY)
POLICY_DOC = yaml.safe_load(DEFAULT_POLICY.read_text(encoding="utf-8"))


def account(*invoices, debtor_type="business", jurisdiction="GB-ENG"):
    """A sole trader in England (breathing space covers their business debts)."""
    return Account.from_dict({
        "id": "ST-1", "currency": "GBP", "jurisdiction": jurisdiction, "timezone": "Europe/London",
        "debtor_type": debtor_type, "contact": {"email": "st@example.com"},
        "invoices": [{"id": f"I{i}", "amount": amount, "due_date": due}
                     for i, (amount, due) in enumerate(invoices, 1)]})


def ev(type_, day: str, hour=9, **fields):
    return Event.from_dict({"type": type_, "at": f"{day}T{hour:02d}:00:00Z", **fields})


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)


def fees(d) -> tuple[str, str]:
    return str(d.fees.late_fee.amount), str(d.fees.interest.amount)


def held(d):
    return next((s for s in d.suppressions if s.rule == "stop.breathing_space"), None)


def checked(acc, events, d) -> None:
    assert oracle.violations(acc, events, d.evaluated_at, d, POLICY_DOC) == []


# A breathing space from 2026-09-10 runs through 2026-11-09 (the 60th day after its start day).
BREATHING = ev("breathing_space", "2026-09-10")


def test_no_late_fee_for_an_invoice_that_fell_due_during_the_moratorium():
    """The issue's case: 1,500.00 due before (70.00) and 500.00 due inside (no 40.00): 70.00, not 110.00."""
    acc = account(("1500.00", "2026-08-31"), ("500.00", "2026-09-20"))
    d = decide(acc, [BREATHING], POLICY, at("2026-11-24"))
    assert held(d) is None
    # interest: I1 85 days overdue less 61 in the moratorium = 24 days: 1,500 x 0.12 x 24/365 = 11.835 -> 11.84;
    # I2 65 days less 50 (21 Sep - 9 Nov) = 15 days: 500 x 0.12 x 15/365 = 2.466 -> 2.47
    assert fees(d) == ("70.00", "14.31")
    assert not d.fees.frozen and d.fees.note == ("no interest and no late fee for the days of a breathing "
                                                 "space or crisis moratorium: 2026-09-10 to 2026-11-09")
    assert f"Fees: late fee 70.00 GBP, interest 14.31 GBP — {d.fees.note}." in render_text(d)
    checked(acc, [BREATHING], d)


def test_while_in_force_everything_is_frozen():
    acc = account(("1500.00", "2026-08-31"), ("500.00", "2026-09-20"))
    d = decide(acc, [BREATHING], POLICY, at("2026-11-01"))
    assert d.action is None and d.fees.frozen and fees(d) == ("0.00", "0.00")
    assert "statutory breathing space (last day 2026-11-09)" in held(d).reason


@pytest.mark.parametrize("due, late_fee", [
    ("2026-09-08", "40.00"),     # first overdue day 9 Sep: before the moratorium, the fee arose then
    ("2026-09-09", "0.00"),      # first overdue day 10 Sep: the moratorium's first day
    ("2026-11-08", "0.00"),      # first overdue day 9 Nov: its last day
    ("2026-11-09", "40.00"),     # first overdue day 10 Nov: after it
])
def test_the_edges_of_the_moratorium(due, late_fee):
    acc = account(("500.00", due))
    d = decide(acc, [BREATHING], POLICY, at("2026-11-24"))
    assert fees(d)[0] == late_fee
    checked(acc, [BREATHING], d)


def test_every_moratorium_is_excluded_from_interest_not_only_the_latest():
    """1,000.00 due 2025-06-30, evaluated a year later: 365 days overdue, less a breathing space of
    60 days (1 Sep - 30 Oct 2025) and a crisis moratorium of 60 days (2 Mar - 30 Apr 2026: the
    treatment ended 31 Mar, plus 30 days) = 245 days: 1,000 x 0.12 x 245/365 = 80.547 -> 80.55."""
    acc = account(("1000.00", "2025-06-30"))
    events = [ev("breathing_space", "2025-09-01", until="2025-10-30"),
              ev("mental_health_crisis_moratorium", "2026-03-02"),
              ev("crisis_treatment_ended", "2026-04-02", until="2026-03-31")]
    d = decide(acc, events, POLICY, at("2026-06-30"))
    assert held(d) is None
    assert fees(d) == ("70.00", "80.55")       # the late fee arose on 1 July 2025, before both
    checked(acc, events, d)       # (the latest alone left out would have left 305 days: 100.27)


@pytest.mark.parametrize("events, interest", [
    # ended early on 21 Sep 2025 (20 days), and a later one of 30 days (its `until`): 365 - 50 = 315 days
    ([ev("breathing_space", "2025-09-01"), ev("breathing_space_ended", "2025-09-21"),
      ev("breathing_space", "2026-03-02", until="2026-03-31")], "103.56"),
    # an end notified after the 60 days does not lengthen it: 61 + 30 days left out, 274 counted
    ([ev("breathing_space", "2025-09-01"), ev("breathing_space_ended", "2025-12-15"),
      ev("breathing_space", "2026-03-02", until="2026-03-31")], "90.08"),
    # a crisis moratorium's own `until` (20 Mar) wins over the end of treatment: 19 days, 346 counted
    ([ev("mental_health_crisis_moratorium", "2026-03-02", until="2026-03-20"),
      ev("crisis_treatment_ended", "2026-04-10")], "113.75"),
    # overlapping moratoria count once: 1 Sep - 14 Nov 2025 is 75 days, 290 counted
    ([ev("breathing_space", "2025-09-01"), ev("mental_health_crisis_moratorium", "2025-10-15",
                                             until="2025-11-14")], "95.34"),
], ids=["ended-early", "late-end-notice", "crisis-until", "overlapping"])
def test_the_last_day_of_each_moratorium(events, interest):
    """1,000.00 due 2025-06-30, 365 days overdue on 2026-06-30, at 12% a year."""
    acc = account(("1000.00", "2025-06-30"))
    d = decide(acc, events, POLICY, at("2026-06-30"))
    assert held(d) is None and fees(d) == ("70.00", interest)
    checked(acc, events, d)


def test_a_crisis_moratorium_lasts_the_treatment_plus_30_days_with_no_fixed_length():
    acc = account(("500.00", "2026-08-01"), debtor_type="consumer")
    start = ev("mental_health_crisis_moratorium", "2026-03-02")
    d = decide(acc, [start], POLICY, at("2026-09-01"))          # 183 days on: no 60-day end
    assert d.action is None and held(d).until is None
    assert held(d).reason.startswith("mental health crisis moratorium (while the crisis treatment lasts "
                                     "and 30 days after it)")
    checked(acc, [start], d)
    treated = [start, ev("crisis_treatment_ended", "2026-09-03")]
    d = decide(acc, treated, POLICY, at("2026-09-10"))
    assert d.action is None and "(last day 2026-10-03)" in held(d).reason
    assert held(d).until == datetime(2026, 10, 3, 23, tzinfo=UTC)     # midnight in London (BST)
    checked(acc, treated, d)
    d = decide(acc, treated, POLICY, at("2026-10-05"))
    assert held(d) is None and d.action is not None
    checked(acc, treated, d)
    ended = [start, ev("breathing_space_ended", "2026-05-01")]      # ended by notice
    d = decide(acc, ended, POLICY, at("2026-05-02"))
    assert held(d) is None
    checked(acc, ended, d)


RULE = "check uk-drs.once-in-12-months"


def _repeat(events, now):
    acc = account(("500.00", "2026-08-01"), debtor_type="consumer")
    d = decide(acc, events, POLICY, at(now))
    checked(acc, events, d)
    return next(t for t in d.trace if t.step == RULE).outcome, d


def test_the_12_month_limit_is_for_standard_breathing_spaces_only():
    first = ev("breathing_space", "2026-10-01")                  # last day 2026-11-30
    # a second standard one within 12 months: flagged, still honoured
    outcome, d = _repeat([first, ev("breathing_space", "2027-03-01")], "2027-03-10")
    assert outcome == "check notice" and d.action is None
    # a crisis moratorium within 12 months: no limit, not flagged
    outcome, d = _repeat([first, ev("mental_health_crisis_moratorium", "2027-03-01")], "2027-03-10")
    assert outcome == "clear" and d.action is None
    # a crisis moratorium in between does not count as the previous breathing space...
    crisis_first = [ev("mental_health_crisis_moratorium", "2026-10-01"),
                    ev("crisis_treatment_ended", "2026-10-20"), ev("breathing_space", "2027-03-01")]
    outcome, d = _repeat(crisis_first, "2027-03-10")
    assert outcome == "clear" and d.action is None
    # ...but the standard one before it still does
    outcome, d = _repeat([first, ev("mental_health_crisis_moratorium", "2027-01-10"),
                          ev("breathing_space_ended", "2027-02-01"), ev("breathing_space", "2027-03-01")],
                         "2027-03-10")
    assert outcome == "check notice" and d.action is None


def test_the_oracle_catches_fees_for_moratorium_days():
    """The oracle's fee bounds bite: the 110.00 the engine used to charge, and interest on the
    days of an earlier moratorium, are both reported."""
    import dataclasses

    from arrears.engine.domain.decision import Fees
    from arrears.engine.domain.money import Money
    from tests.oracle_offers import offer_fee_violations

    acc = account(("1500.00", "2026-08-31"), ("500.00", "2026-09-20"))
    d = decide(acc, [BREATHING], POLICY, at("2026-11-24"))
    gbp = lambda s: Money(Decimal(s), "GBP")      # noqa: E731
    for late, interest, what in (("110.00", "14.31", "late fee 110.00 above 70.00"),
                                 ("70.00", "30.00", "interest 30.00 above 14.31")):
        fake = dataclasses.replace(d, fees=Fees(gbp(late), gbp(interest), False, None))
        found = offer_fee_violations(acc, [BREATHING], d.evaluated_at, fake, POLICY_DOC)
        assert any(v.startswith(what) for v in found), found


def test_an_end_at_the_instant_of_the_start_ends_it():
    """The state is in force only when its start is later than the latest end (docs/facts.md)."""
    acc = account(("500.00", "2026-08-01"), debtor_type="consumer")
    events = [ev("breathing_space", "2026-11-20"), ev("breathing_space_ended", "2026-11-20")]
    d = decide(acc, events, POLICY, at("2026-11-24"))
    assert held(d) is None
