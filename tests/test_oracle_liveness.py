"""The liveness, pause, offer and fee checks of the independent oracle must bite.

An engine that never acts, or that breaks the policy guide's promises about pauses, offers
and fees, must be caught: each check is fed a hand-made decision that breaks it (and the
engine's own decision, which must pass), and a property strips the action from generated
decisions and asserts the oracle reports the missed step.
"""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import given, settings

from arrears.engine import Account, Event, Money, decide
from arrears.engine.domain.decision import Fees, Offer, Suppression
from tests import test_guardrail_properties as props
from tests.oracle_liveness import earned_step, missed_step, pause_violations, skipped_required
from tests.oracle_offers import offer_fee_violations

pytestmark = pytest.mark.slow

UTC = timezone.utc
LONDON = ZoneInfo("Europe/London")
DEFAULT, DEFAULT_DOC = props.POLICIES["default"]
FDCPA, FDCPA_DOC = props.POLICIES["fdcpa"]


def account(juris=None, tz="Europe/London", due="2026-10-01", amount="1200.00", debtor="consumer",
            **contact):
    contact = contact or {"email": "d@example.com", "mobile": "+15550101", "address": "1 Main St"}
    return Account.from_dict({"id": "A1", "currency": "GBP", "jurisdiction": juris, "timezone": tz,
                              "debtor_type": debtor, "contact": contact,
                              "invoices": [{"id": "I1", "amount": amount, "due_date": due}]})


def ev(type_, at: datetime, **fields) -> Event:
    return Event.from_dict({"type": type_, "at": at.astimezone(UTC).isoformat(), **fields})


def at(text: str, tz=LONDON) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=tz)


def sent(when: datetime, stage: str, channel="email") -> Event:
    return ev("contact_attempt", when, channel=channel, outcome="sent", stage=stage)


# ---- an engine that never acts ---------------------------------------------------------------------

NY = ZoneInfo("America/New_York")
SYDNEY = ZoneInfo("Australia/Sydney")
KNOWN_STEPS = {
    # the worked example of the policy guide: the friendly reminder once grace is over
    "friendly reminder": (account(), [sent(at("2026-09-28T16:00"), "pre_due_reminder")],
                          at("2026-10-05T16:00"), DEFAULT, DEFAULT_DOC),
    # first seen at 70 days past due: the required formal notice first
    "required stage first": (account(due="2026-10-01"), [], at("2026-12-10T16:00"), DEFAULT, DEFAULT_DOC),
    # a repeat of the friendly reminder 7 days after the first
    "repeat": (account(), [sent(at("2026-10-05T16:00"), "friendly_reminder")], at("2026-10-12T16:00"),
               DEFAULT, DEFAULT_DOC),
    # a promise made on 7 October to pay by 20 October, not kept: paused through 22 October
    "after a broken promise": (account(), [sent(at("2026-10-05T16:00"), "friendly_reminder"),
                                           ev("promise_to_pay", at("2026-10-07T12:00"), amount="1200.00",
                                              until="2026-10-20")],
                               at("2026-10-23T16:00"), DEFAULT, DEFAULT_DOC),
    # a hardship notice on 2 October holds through 1 November (30 days); on 2 November it is over
    "after hardship": (account(), [sent(at("2026-09-28T16:00"), "pre_due_reminder"),
                                   ev("hardship", at("2026-10-02T12:00"))],
                       at("2026-11-02T16:00"), DEFAULT, DEFAULT_DOC),
    # a US consumer under Reg F with 7 calls in 7 days: the personal call moves to email
    "call cap, moved to email": (
        account("US-CA", "America/New_York", due="2026-10-20", amount="900.00",
                email="d@example.com", phone="+15550100"),
        [ev("validation_notice_sent", at("2026-10-01T10:00", NY)),
         sent(at("2026-11-05T10:00", NY), "firm_reminder", "email")]
        + [ev("contact_outcome", at("2026-11-20T10:00", NY) - timedelta(hours=11 * k), channel="call",
              outcome="no_answer") for k in range(7)],
        at("2026-11-20T12:00", NY), FDCPA, FDCPA_DOC),
    # Australia Day: the letter waits for 27 January (local midnight), within the day
    "deferred past a holiday": (account("AU-NSW", "Australia/Sydney", due="2027-01-18", address="1 Main St"),
                                [], at("2027-01-26T10:00", SYDNEY), DEFAULT, DEFAULT_DOC),
}


def test_an_engine_that_never_acts_misses_every_known_step():
    for name, (acc, events, now, policy, doc) in KNOWN_STEPS.items():
        d = decide(acc, events, policy, now)
        assert d.action is not None, (name, d.suppressions)
        assert props.judge(acc, events, now, d, doc) == [], name          # the real decision passes
        found = missed_step(acc, events, now, dataclasses.replace(d, action=None), doc)
        assert len(found) == 1 and found[0].startswith("missed step:"), (name, found)


def test_the_known_steps_are_not_claimed_while_something_holds_them():
    acc, events, now, _policy, doc = KNOWN_STEPS["friendly reminder"]
    for held in (ev("hold", now - timedelta(days=1)), ev("deceased", now - timedelta(days=1)),
                 ev("dispute_opened", now - timedelta(days=1)),
                 ev("promise_to_pay", now - timedelta(days=1), amount="10.00", until="2026-10-09")):
        assert earned_step(acc, events + [held], now, doc) is None, held.type


def test_an_engine_that_never_acts_fails_the_properties():
    """Strip the action from generated decisions: the oracle reports nearly every one."""
    seen, flagged = [0], [0]
    policy, doc = props.POLICIES["aggressive"]

    @settings(max_examples=120, **props.FAST)
    @given(case=props.scenarios())
    def prop(case):
        acc, events = props.build(case.account, case.events)
        now = datetime.fromtimestamp(case.now, UTC)
        d = decide(acc, events, policy, now)
        if d.action is None or d.action.not_before > now + timedelta(hours=12):
            return
        seen[0] += 1
        flagged[0] += bool(missed_step(acc, events, now, dataclasses.replace(d, action=None), doc))
    prop()
    print(f"\n[never acts] {flagged[0]} of {seen[0]} stripped actions reported as missed steps")
    assert seen[0] >= 30 and flagged[0] >= 0.9 * seen[0], (flagged, seen)


# ---- required stages, pauses ------------------------------------------------------------------------

def test_a_skipped_required_stage_is_reported():
    acc, events, now, policy, doc = KNOWN_STEPS["required stage first"]
    d = decide(acc, events, policy, now)
    assert d.action.stage == "formal_notice"
    warning = dataclasses.replace(d.action, stage="legal_warning", type="legal_warning")
    found = skipped_required(acc, events, now, dataclasses.replace(d, action=warning), doc)
    assert found and "before required formal_notice" in found[0], found
    done = events + [sent(now - timedelta(days=20), "formal_notice", "letter")]
    assert skipped_required(acc, done, now, dataclasses.replace(d, action=warning), doc) == []


def _held(d, rule: str, until: datetime | None, reason="held"):
    return dataclasses.replace(d, action=None, suppressions=(Suppression(rule, reason, until),))


def test_a_pause_past_its_end_is_reported():
    acc = account()
    base = [sent(at("2026-10-05T16:00"), "friendly_reminder")]
    promise = ev("promise_to_pay", at("2026-10-07T12:00"), amount="1200.00", until="2026-10-20")
    deadline = at("2026-10-23T00:00").astimezone(UTC)                    # 20 Oct + 2 days' tolerance
    cases = [
        ("pause.promise_to_pay", [promise], at("2026-10-23T16:00"), deadline),
        ("pause.hardship", [ev("hardship", at("2026-10-02T12:00"))], at("2026-11-02T16:00"),
         at("2026-11-02T00:00").astimezone(UTC)),
        ("pause.hold", [ev("hold", at("2026-10-02T12:00"), until="2026-10-09")], at("2026-10-11T16:00"),
         at("2026-10-10T00:00").astimezone(UTC)),
        ("stop.breathing_space", [ev("breathing_space", at("2026-10-05T12:00"))], at("2026-12-05T16:00"),
         at("2026-12-05T00:00").astimezone(UTC)),
        ("pause.hold", [ev("hold", at("2026-10-02T12:00")), ev("hold_released", at("2026-10-03T12:00"))],
         at("2026-10-04T16:00"), None),
    ]
    for rule, extra, now, end in cases:
        events = base + extra
        d = decide(acc, events, DEFAULT, now)
        assert pause_violations(acc, events, now, d, DEFAULT_DOC) == [], rule     # the engine ends it
        found = pause_violations(acc, events, now, _held(d, rule, end), DEFAULT_DOC)
        assert found and found[0].startswith(f"pause over: {rule}"), (rule, found)
    # one second before its end it holds, and the decision must be looked at again by then
    rule, extra, now, end = cases[0]
    early = end - timedelta(hours=5)
    d = decide(acc, base + extra, DEFAULT, early)
    assert [s.rule for s in d.suppressions] == [rule]
    assert pause_violations(acc, base + extra, early, d, DEFAULT_DOC) == []
    late = dataclasses.replace(d, next_evaluation_at=end + timedelta(days=3))
    assert any(v.startswith("late re-evaluation") for v in
               pause_violations(acc, base + extra, early, late, DEFAULT_DOC))
    longer = _held(d, rule, end + timedelta(days=5))
    assert any(v.startswith("pause too long") for v in
               pause_violations(acc, base + extra, early, longer, DEFAULT_DOC))


# ---- offers and fees -------------------------------------------------------------------------------

def gbp(text: str) -> Money:
    return Money(Decimal(text), "GBP")


def _with_offer(d, kind: str, pay: str, discount: str):
    return dataclasses.replace(d, offers=(Offer(kind, gbp(pay), gbp(discount), d.evaluated_at + timedelta(days=9)),))


def test_offers_to_excluded_accounts_and_outside_their_terms_are_reported():
    now = at("2027-02-01T16:00")                                      # 123 days past due
    acc = account()
    d = decide(acc, [], DEFAULT, now)
    assert [o.kind for o in d.offers] == ["settlement"] and d.offers[0].amount == gbp("840.00")
    assert offer_fee_violations(acc, [], now, d, DEFAULT_DOC) == []
    for stop in ("bankruptcy", "deceased", "cease_communication", "represented", "breathing_space",
                 "dispute_opened"):
        events = [ev(stop, now - timedelta(days=2))]
        found = offer_fee_violations(acc, events, now, d, DEFAULT_DOC)
        assert any(v.startswith("offer to an excluded account") for v in found), stop
        assert decide(acc, events, DEFAULT, now).offers == (), stop
    below = offer_fee_violations(acc, [], now, _with_offer(d, "settlement", "700.00", "500.00"), DEFAULT_DOC)
    assert any("below its floor 720" in v for v in below), below
    above = offer_fee_violations(acc, [], now, _with_offer(d, "settlement", "1300.00", "0.00"), DEFAULT_DOC)
    assert any("above the balance" in v for v in above), above
    small = account(amount="120.00")                                   # floor 100.00 beats 60%
    ds = decide(small, [], DEFAULT, now)
    assert ds.offers[0].amount == gbp("100.00")
    assert offer_fee_violations(small, [], now, _with_offer(ds, "settlement", "84.00", "36.00"), DEFAULT_DOC)
    early = offer_fee_violations(acc, [], now, _with_offer(d, "early_payment_discount", "1176.00", "24.00"),
                                 DEFAULT_DOC)
    assert any(v.startswith("early-payment discount at 123 days past due") for v in early), early
    before = at("2026-09-25T10:00")                                   # 6 days before the due date
    db = decide(acc, [], DEFAULT, before)
    assert [o.kind for o in db.offers] == ["early_payment_discount"]
    assert offer_fee_violations(acc, [], before, db, DEFAULT_DOC) == []


def test_fees_while_frozen_are_reported():
    business = account(debtor="business", amount="5000.00")
    now = at("2026-11-15T16:00")
    d = decide(business, [], DEFAULT, now)
    assert d.fees.late_fee.amount > 0 and d.fees.interest.amount > 0
    assert offer_fee_violations(business, [], now, d, DEFAULT_DOC) == []
    plan = ev("payment_plan", now - timedelta(days=2),
              instalments=[{"due_date": "2026-12-01", "amount": "2500.00"},
                           {"due_date": "2027-01-01", "amount": "2500.00"}])
    uk_hardship = account("GB-ENG", debtor="consumer", amount="5000.00")
    doc = yaml.safe_load(yaml.safe_dump(DEFAULT_DOC))
    doc["fees"]["late_fee"].pop("when")                       # fees for consumers too
    for acc, events in ((business, [ev("breathing_space", now - timedelta(days=3))]), (business, [plan]),
                        (uk_hardship, [ev("hardship", now - timedelta(days=3))])):
        fake = dataclasses.replace(d, fees=Fees(gbp("70.00"), gbp("10.00"), False, None))
        found = offer_fee_violations(acc, events, now, fake, doc)
        assert any(v.startswith("fees while frozen") for v in found), (events, found)
        real = decide(acc, events, DEFAULT, now)
        assert real.fees is None or (real.fees.late_fee.amount == 0 and real.fees.interest.amount == 0)
