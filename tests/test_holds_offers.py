"""Holds (stop states and pauses), offers (early payment, settlement) and fees under the default policy."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest

from arrears.engine.decisions.core import decide
from arrears.engine.policy.compiler import compile_policy
from tests.core_factories import NOW, TODAY, days_ago, default_policy_doc, ev, make_account


def at(day, hour=10):
    return datetime.combine(day, time(hour), timezone.utc)


def midnight_after(day, tz="Europe/London"):
    """UTC instant at which the local day after `day` starts."""
    return datetime.combine(day + timedelta(days=1), time(0), ZoneInfo(tz)).astimezone(timezone.utc)


def offers(d) -> dict:
    return {o.kind: o for o in d.offers}


# ---- holds --------------------------------------------------------------------------------------

STARTED = days_ago(10)          # 2026-11-12
# A state that lasts N days by default counts them after the day it started (the safe side of
# "60 days": the debtor is never protected for less), so its last day is start + N.
LAST = lambda n: STARTED + timedelta(days=n)               # noqa: E731

HOLDS = [
    ("stop.deceased", [ev("deceased", at(STARTED))], None),
    ("stop.bankruptcy", [ev("bankruptcy", at(STARTED))], None),
    ("stop.cease_communication", [ev("cease_communication", at(STARTED))], None),
    ("stop.represented", [ev("represented", at(STARTED))], None),
    # the statutory breathing space lasts 60 days unless told otherwise
    ("stop.breathing_space", [ev("breathing_space", at(STARTED))], LAST(60)),
    ("stop.breathing_space", [ev("breathing_space", at(STARTED), until="2026-12-01")], date(2026, 12, 1)),
    # manual holds last at most manual_hold.max_days (90)
    ("pause.hold", [ev("hold", at(STARTED))], LAST(90)),
    ("pause.hold", [ev("hold", at(STARTED), until="2026-11-30")], date(2026, 11, 30)),
    ("pause.hold", [ev("hold", at(STARTED), until="2027-12-31")], LAST(90)),
    # hardship: hardship_extension_days (30) unless it carries an end
    ("pause.hardship", [ev("hardship", at(STARTED))], LAST(30)),
    ("pause.hardship", [ev("hardship", at(STARTED), until="2026-12-24")], date(2026, 12, 24)),
    # a promise pauses until its date plus 2 days' tolerance
    ("pause.promise_to_pay", [ev("promise_to_pay", at(STARTED), amount="500.00", until="2026-11-25")],
     date(2026, 11, 27)),
    # a plan in good standing pauses until the next instalment's check (due + 3 days' tolerance)
    ("pause.payment_plan", [ev("payment_plan", at(STARTED), instalments=[
        {"due_date": "2026-11-30", "amount": "500.00"}, {"due_date": "2026-12-30", "amount": "500.00"}])],
     date(2026, 12, 3)),
]


@pytest.mark.parametrize("rule, history, last_day", HOLDS, ids=[f"{h[0]}-{i}" for i, h in enumerate(HOLDS)])
def test_every_hold_suppresses_the_action(policy, rule, history, last_day):
    if rule == "stop.represented":
        # The hold of a policy without a `representation` section (with one, the step goes to the
        # representative or a review task instead: tests/test_representation.py).
        doc = default_policy_doc()
        doc.pop("representation")
        policy = compile_policy(doc)
    acc = make_account(due_date=days_ago(20))
    assert decide(acc, [], policy, NOW).action is not None            # something would go out ...
    d = decide(acc, history, policy, NOW)
    assert d.action is None                                           # ... but for the hold
    assert [s.rule for s in d.suppressions] == [rule]
    (s,) = d.suppressions
    assert len(s.reason) > 10
    if last_day is None:
        assert s.until is None                                        # only an event lifts it
    else:
        assert last_day.isoformat() in s.reason                       # the reason names the last day
        assert s.until == midnight_after(last_day)
        assert d.next_evaluation_at <= s.until
    trace = {t.step: t.outcome for t in d.trace}
    assert trace[f"check {rule}"] == "held"


def test_holds_lift_when_they_end(policy):
    acc = make_account(due_date=days_ago(20))
    history = [ev("hold", at(STARTED), until="2026-11-30")]
    assert decide(acc, history, policy, datetime(2026, 11, 30, 23, 59, tzinfo=timezone.utc)).action is None
    assert decide(acc, history, policy, datetime(2026, 12, 1, 0, 0, tzinfo=timezone.utc)).action is not None


def test_breathing_space_lasts_sixty_days_after_the_first(policy):
    acc = make_account(due_date=days_ago(100))
    assert decide(acc, [ev("breathing_space", at(days_ago(60)))], policy, NOW).action is None
    assert decide(acc, [ev("breathing_space", at(days_ago(61)))], policy, NOW).action is not None


def test_several_holds_are_all_reported(policy):
    history = [ev("bankruptcy", at(STARTED)), ev("hold", at(STARTED), until="2026-11-30"),
               ev("cease_communication", at(STARTED))]
    d = decide(make_account(due_date=days_ago(20)), history, policy, NOW)
    assert d.action is None
    assert {s.rule for s in d.suppressions} == {"stop.bankruptcy", "stop.cease_communication", "pause.hold"}


def test_a_plan_that_missed_an_instalment_no_longer_pauses(policy):
    history = [ev("payment_plan", at(days_ago(30)), instalments=[
        {"due_date": str(days_ago(10)), "amount": "500.00"}, {"due_date": str(days_ago(-20)), "amount": "500.00"}])]
    d = decide(make_account(due_date=days_ago(40)), history, policy, NOW)
    assert "pause.payment_plan" not in {s.rule for s in d.suppressions}
    assert d.action is not None


# ---- early-payment discount ------------------------------------------------------------------------

@pytest.mark.parametrize("dpd, offered", [(-11, False), (-10, True), (-1, True), (0, True), (1, False)])
def test_early_payment_discount_window(policy, dpd, offered):
    due = days_ago(dpd)
    d = decide(make_account(due_date=due, amount="1234.56"), [], policy, NOW)
    early = offers(d).get("early_payment_discount")
    assert (early is not None) is offered
    if offered:
        discount = (Decimal("1234.56") * Decimal("0.02")).quantize(Decimal("0.01"), ROUND_HALF_UP)
        assert early.discount.amount == discount == Decimal("24.69")
        assert early.amount.amount == Decimal("1234.56") - discount
        assert early.amount.currency == "EUR"
        assert early.expires_at == midnight_after(due)        # the end of the due date, local time
        assert early.requires_approval is False


def test_early_payment_discount_expires_at_the_debtors_midnight(policy):
    due = date(2026, 11, 28)
    d = decide(make_account(due_date=due, timezone="Australia/Sydney"), [], policy, NOW)
    assert offers(d)["early_payment_discount"].expires_at == datetime(2026, 11, 28, 13, tzinfo=timezone.utc)


def test_no_early_payment_discount_for_high_risk(policy):
    d = decide(make_account(due_date=days_ago(-5), risk_score=0.7), [], policy, NOW)
    assert "early_payment_discount" not in offers(d)


@pytest.mark.parametrize("currency, amount, discount", [
    ("JPY", "1234", "25"),             # 24.68 -> 25 yen
    ("BHD", "1.234", "0.025"),         # 0.02468 -> 0.025
    ("EUR", "0.24", "0.00"),           # rounds to nothing: no offer
])
def test_early_payment_discount_rounds_in_the_minor_unit(policy, currency, amount, discount):
    d = decide(make_account(due_date=days_ago(-5), currency=currency, amount=amount), [], policy, NOW)
    early = offers(d).get("early_payment_discount")
    if Decimal(discount) == 0:
        assert early is None
    else:
        assert str(early.discount.amount) == discount


# ---- settlement -------------------------------------------------------------------------------------

@pytest.mark.parametrize("balance, settle_for, approval", [
    ("1000.00", "700.00", False),              # 30% off
    ("120.00", "100.00", False),               # 30% off would be 84.00, below the 100.00 floor
    ("150.00", "105.00", False),
    ("20000.00", "14000.00", True),            # gives up 6000.00 and settles for 14000.00: above 5000.00
    ("4000.00", "2800.00", False),             # 1200.00 off, 2800.00 to pay: both below 5000.00
])
def test_settlement_offer(policy, balance, settle_for, approval):
    d = decide(make_account(due_date=days_ago(130), amount=balance), [], policy, NOW)
    s = offers(d)["settlement"]
    assert s.amount.amount == Decimal(settle_for)
    assert s.discount.amount == Decimal(balance) - Decimal(settle_for)
    # never below 60% of the balance nor below the 100.00 floor
    assert s.amount.amount >= Decimal(balance) * Decimal("0.6")
    assert s.amount.amount >= min(Decimal("100.00"), Decimal(balance))
    assert s.requires_approval is approval


def _settlement_policy(**settlement):
    doc = default_policy_doc()
    doc["incentives"]["settlement"].update(settlement)
    return compile_policy(doc)


@pytest.mark.parametrize("balance, settle_for", [
    ("1000.00", "600.00"),       # 50% off would be 500.00: the 60% floor binds
    ("150.00", "100.00"),        # 60% is 90.00, 50% off 75.00: the 100.00 floor binds
    ("99.00", None),             # the 100.00 floor is the whole balance: nothing to give
    ("12345.67", "7407.40"),     # 60% of 12345.67 = 7407.402, to the cent
])
def test_a_generous_discount_stops_at_the_floors(balance, settle_for):
    """With 50% off and a 60% floor, the percent floor decides the amount, not the discount."""
    policy = _settlement_policy(discount_percent=50, floor_percent=60, approval_above=None)
    account = make_account(due_date=days_ago(130), amount=balance)
    s = offers(decide(account, [], policy, NOW)).get("settlement")
    if settle_for is None:
        assert s is None
        return
    assert s.amount.amount == Decimal(settle_for)
    assert s.discount.amount == Decimal(balance) - Decimal(settle_for)


@pytest.mark.parametrize("balance", ["100.00", "90.00"])
def test_no_settlement_when_the_floor_leaves_nothing_to_give(policy, balance):
    d = decide(make_account(due_date=days_ago(130), amount=balance), [], policy, NOW)
    assert "settlement" not in offers(d)


@pytest.mark.parametrize("dpd, account", [(119, {}), (130, {"debtor_type": "business"})])
def test_settlement_needs_age_and_segment(policy, dpd, account):
    d = decide(make_account(due_date=days_ago(dpd), **account), [], policy, NOW)
    assert "settlement" not in offers(d)


def test_settlement_expiry_is_stable_across_consecutive_days(policy):
    due = date(2026, 6, 1)
    acc = make_account(due_date=due, amount="1000.00")
    anchor = due + timedelta(days=120)                 # the first day the account qualifies
    expiries = []
    for k in range(0, 35):
        now = datetime.combine(anchor + timedelta(days=k), time(15), timezone.utc)
        s = offers(decide(acc, [], policy, now))["settlement"]
        assert s.expires_at > now
        expiries.append(s.expires_at)
    # fixed 14-day windows from the anchor: the expiry only moves when a window ends
    def window_end(k):
        return midnight_after(anchor + timedelta(days=14 * (k // 14 + 1) - 1))
    assert expiries == [window_end(k) for k in range(35)]
    assert len(set(expiries)) == 3


@pytest.mark.parametrize("history", [
    [ev("dispute_opened", at(STARTED), invoice_id="I2")],
    [ev("bankruptcy", at(STARTED))],
    [ev("deceased", at(STARTED))],
    [ev("cease_communication", at(STARTED))],
    [ev("breathing_space", at(STARTED))],
    [ev("represented", at(STARTED))],
])
def test_no_offers_for_disputed_bankrupt_deceased_or_ceased_accounts(policy, history):
    invoices = [{"id": "I1", "amount": "1000.00", "due_date": str(days_ago(130))},
                {"id": "I2", "amount": "500.00", "due_date": str(days_ago(-5))}]
    acc = make_account(invoices=invoices)
    assert set(offers(decide(acc, [], policy, NOW))) == {"settlement"}
    d = decide(acc, history, policy, NOW)
    assert d.offers == ()
    trace = {t.step: t.outcome for t in d.trace}
    assert trace["offer settlement"] == "not offered"


def test_no_early_discount_for_a_disputed_account(policy):
    d = decide(make_account(due_date=days_ago(-5)),
               [ev("dispute_opened", at(days_ago(1)), invoice_id="I1")], policy, NOW)
    assert d.offers == ()


# ---- fees ------------------------------------------------------------------------------------------

def interest(open_amount: str, days: int, rate="12", basis=365) -> Decimal:
    """Simple interest rounded half up to the cent, as statute and the policy describe it."""
    value = Decimal(open_amount) * Decimal(rate) / 100 * days / basis
    return value.quantize(Decimal("0.01"), ROUND_HALF_UP)


LATE_FEE_INVOICES = [
    {"id": "A", "amount": "999.99", "due_date": "2026-10-01"},      # below 1000: 40.00
    {"id": "B", "amount": "1000.00", "due_date": "2026-10-15"},     # below 10000: 70.00
    {"id": "C", "amount": "9999.99", "due_date": "2026-11-01"},     # 70.00
    {"id": "D", "amount": "10000.00", "due_date": "2026-11-20"},    # 100.00
    {"id": "E", "amount": "5000.00", "due_date": "2026-12-01"},     # not overdue: no fee
]


def test_late_fee_tiers_per_overdue_invoice(policy):
    d = decide(make_account(debtor_type="business", invoices=LATE_FEE_INVOICES), [], policy, NOW)
    assert d.fees.late_fee.amount == Decimal("40.00") + 70 + 70 + 100


def _fee_policy(**late_fee):
    doc = default_policy_doc()
    doc["fees"]["late_fee"] = {"when": {"segment": "business"}, **late_fee}
    return compile_policy(doc)


@pytest.mark.parametrize("late_fee, expected", [
    ({"flat": "25.00"}, "25.00"),                            # once per account, not per invoice
    ({"percent": 2.5}, "550.00"),                            # 2.5% of 21999.98 = 549.9995, half up
    ({"flat": "25.00", "percent": 2.5}, "575.00"),           # both add up
    ({"flat": "25.00", "fixed_by_amount": [{"amount": "10.00"}]}, "65.00"),   # 25 + 4 x 10
])
def test_flat_and_percent_late_fees(late_fee, expected):
    """The overdue balance is A+B+C+D = 21999.98 (invoice E is not yet due)."""
    account = make_account(debtor_type="business", invoices=LATE_FEE_INVOICES)
    d = decide(account, [], _fee_policy(**late_fee), NOW)
    assert d.fees.late_fee.amount == Decimal(expected)


def test_a_percent_late_fee_follows_what_is_still_overdue():
    paid = [ev("payment", at(days_ago(1)), amount="10000.00", invoice_id="D")]
    d = decide(make_account(debtor_type="business", invoices=LATE_FEE_INVOICES), paid,
               _fee_policy(percent=10), NOW)
    assert d.fees.late_fee.amount == Decimal("1199.998").quantize(Decimal("0.01"), ROUND_HALF_UP)


def test_no_late_fee_before_the_due_date():
    acc = make_account(debtor_type="business", due_date=days_ago(-3))
    d = decide(acc, [], _fee_policy(flat="25.00", percent=5), NOW)
    assert d.fees.late_fee.amount == 0


def test_late_fee_only_for_businesses(policy):
    d = decide(make_account(invoices=LATE_FEE_INVOICES), [], policy, NOW)
    assert d.fees.late_fee.amount == 0 and d.fees.interest.amount == 0


def test_a_paid_invoice_carries_no_late_fee(policy):
    d = decide(make_account(debtor_type="business", invoices=LATE_FEE_INVOICES),
               [ev("payment", at(days_ago(1)), amount="999.99", invoice_id="A")], policy, NOW)
    assert d.fees.late_fee.amount == Decimal("240.00")


def test_interest_is_exact_to_the_cent(policy):
    d = decide(make_account(debtor_type="business", invoices=LATE_FEE_INVOICES), [], policy, NOW)
    expected = (interest("999.99", (TODAY - date(2026, 10, 1)).days)       # 52 days
                + interest("1000.00", (TODAY - date(2026, 10, 15)).days)    # 38
                + interest("9999.99", (TODAY - date(2026, 11, 1)).days)     # 21
                + interest("10000.00", (TODAY - date(2026, 11, 20)).days))  # 2
    assert expected == Decimal("17.10") + Decimal("12.49") + Decimal("69.04") + Decimal("6.58")
    assert d.fees.interest.amount == expected


def test_interest_on_a_part_paid_invoice_uses_what_is_open(policy):
    acc = make_account(debtor_type="business", amount="2500.00", due_date="2026-08-15")
    d = decide(acc, [ev("payment", at(days_ago(3)), amount="1234.56")], policy, NOW)
    assert d.fees.interest.amount == interest("1265.44", 99)


@pytest.mark.parametrize("currency, amount, expected", [
    ("JPY", "123457", "3978"),        # 123457 * 12% * 98 / 365 = 3977.7 -> 3978
    ("BHD", "1234.567", "39.777"),    # 39.7767 -> 39.777
])
def test_interest_in_other_minor_units(policy, currency, amount, expected):
    acc = make_account(debtor_type="business", currency=currency, amount=amount, due_date="2026-08-16")
    d = decide(acc, [], policy, NOW)
    exp = Decimal(amount) * Decimal("0.12") * 98 / 365
    assert Decimal(expected) == exp.quantize(Decimal(expected), ROUND_HALF_UP)
    assert d.fees.interest.amount == Decimal(expected)


def test_plan_in_good_standing_freezes_interest_and_fees(policy):
    acc = make_account(debtor_type="business", amount="2000.00", due_date=days_ago(40))
    plan = ev("payment_plan", at(days_ago(5)), instalments=[{"due_date": str(days_ago(-5)), "amount": "1000"},
                                                            {"due_date": str(days_ago(-35)), "amount": "1000"}])
    before = decide(acc, [], policy, NOW)
    assert before.fees.late_fee.amount == Decimal("70.00") and before.fees.interest.amount > 0
    d = decide(acc, [plan], policy, NOW)
    assert (d.fees.late_fee.amount, d.fees.interest.amount, d.fees.frozen) == (0, 0, True)
    assert "payment plan" in d.fees.note


def test_breathing_space_freezes_interest_and_fees(policy):
    acc = make_account(debtor_type="business", amount="2000.00", due_date=days_ago(40))
    d = decide(acc, [ev("breathing_space", at(days_ago(2)))], policy, NOW)
    assert (d.fees.late_fee.amount, d.fees.interest.amount, d.fees.frozen) == (0, 0, True)
    assert "breathing space" in d.fees.note


def test_loyalty_softens_the_tone_and_waives_the_late_fee(policy):
    history = [ev("contact_attempt", at(days_ago(14)), channel="email", outcome="sent",
                  stage="friendly_reminder")]
    plain = make_account(debtor_type="business", due_date=days_ago(20))
    loyal = make_account(debtor_type="business", due_date=days_ago(20), on_time_ratio=0.97)
    d_plain, d_loyal = decide(plain, history, policy, NOW), decide(loyal, history, policy, NOW)
    assert d_plain.action.stage == d_loyal.action.stage == "firm_reminder"
    assert (d_plain.action.tone, d_loyal.action.tone) == ("firm", "friendly")
    assert d_plain.fees.late_fee.amount == Decimal("70.00")
    assert d_loyal.fees.late_fee.amount == 0
    assert d_loyal.fees.interest.amount == d_plain.fees.interest.amount == interest("1000.00", 20)
    assert "punctual" in d_loyal.segments


def test_loyalty_never_softens_formal_or_final_notices(policy):
    loyal = make_account(debtor_type="business", due_date=days_ago(50), on_time_ratio=1.0)
    d = decide(loyal, [], policy, NOW)
    assert (d.action.stage, d.action.tone) == ("formal_notice", "formal")


def test_no_loyalty_for_high_risk_punctual_payers(policy):
    acc = make_account(debtor_type="business", due_date=days_ago(20), on_time_ratio=1.0, risk_score=0.9)
    d = decide(acc, [], policy, NOW)
    assert "punctual" not in d.segments and d.fees.late_fee.amount == Decimal("70.00")


# ---- amounts at the edge of the minor-unit columns -------------------------------------------------------

def test_early_payment_discount_on_a_huge_balance_is_exact(policy):
    invoices = [{"id": f"i{k}", "amount": "1000000000000.00", "due_date": days_ago(-5).isoformat()}
                for k in range(60)]
    d = decide(make_account(invoices=invoices), [], policy, NOW)
    # 2% of 60 trillion: beyond what int64 can multiply by basis points, still exact
    assert offers(d)["early_payment_discount"].discount.amount == Decimal("1200000000000.00")
