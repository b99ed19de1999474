"""Facts: balances, disputes, days past due, promises, plans, stop states, contact windows."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from decimal import Decimal

import pytest

from arrears.engine.decisions.core import decide
from arrears.engine.domain.batch import KIND_CODES, Batch
from arrears.engine.domain.clock import as_epoch
from arrears.engine.domain.decision import rfc3339
from arrears.engine.domain.errors import InputError
from arrears.engine.facts.compute import Facts
from tests.core_factories import NOW, TODAY, days_ago, ev, make_account


def at(day, hour=10, minute=0):
    """An instant on `day` at hour:minute UTC."""
    return datetime.combine(day, time(hour, minute), timezone.utc)


def facts(policy, account, events=(), now=NOW) -> Facts:
    return Facts(Batch.from_objects([account], [list(events)]), policy, as_epoch(now))


def open_by_invoice(f: Facts) -> dict:
    """{invoice id: open amount in minor units} of a one-account batch."""
    return dict(zip(f.b.inv_id.tolist(), f.invoice_open.tolist()))


THREE = [  # oldest first: I1 100.00, I2 200.00, I3 300.00
    {"id": "I1", "amount": "100.00", "due_date": "2026-09-01"},
    {"id": "I2", "amount": "200.00", "due_date": "2026-10-01"},
    {"id": "I3", "amount": "300.00", "due_date": "2026-11-01"},
]


# ---- FIFO allocation ----------------------------------------------------------------------

@pytest.mark.parametrize("events, expected", [
    ([], {"I1": 10000, "I2": 20000, "I3": 30000}),
    # unallocated money pays the oldest invoice first
    ([("payment", "150.00", None)], {"I1": 0, "I2": 15000, "I3": 30000}),
    # a payment naming its invoice pays that invoice, not the oldest
    ([("payment", "150.00", "I3")], {"I1": 10000, "I2": 20000, "I3": 15000}),
    # own-invoice payments first, then unallocated money oldest first
    ([("payment", "50.00", None), ("payment", "300.00", "I3")], {"I1": 5000, "I2": 20000, "I3": 0}),
    # an overpaid invoice spills the excess over to the oldest open one
    ([("payment", "350.00", "I3")], {"I1": 5000, "I2": 20000, "I3": 0}),
    ([("payment", "450.00", "I2"), ("payment", "10.00", None)], {"I1": 0, "I2": 0, "I3": 14000}),
    # credit notes reduce balances exactly like payments
    ([("credit_note", "120.00", "I1")], {"I1": 0, "I2": 18000, "I3": 30000}),
    # a payment naming an unknown invoice is unallocated money
    ([("payment", "100.00", "NOPE")], {"I1": 0, "I2": 20000, "I3": 30000}),
    # everything paid and more: nothing open, never negative
    ([("payment", "1000.00", None)], {"I1": 0, "I2": 0, "I3": 0}),
])
def test_fifo_allocation(policy, events, expected):
    acc = make_account(invoices=THREE)
    history = [ev(t, at(days_ago(5)), amount=a, **({"invoice_id": i} if i else {}))
               for t, a, i in events]
    f = facts(policy, acc, history)
    assert open_by_invoice(f) == expected
    assert int(f.total_balance[0]) == sum(expected.values())


def test_undisputed_invoices_are_paid_before_disputed_ones(policy):
    acc = make_account(invoices=THREE)
    history = [ev("dispute_opened", at(days_ago(30)), invoice_id="I1"),
               ev("payment", at(days_ago(5)), amount="250.00")]
    f = facts(policy, acc, history)
    # I1 is disputed, so the 250.00 pays I2 (200.00) and then I3, not I1
    assert open_by_invoice(f) == {"I1": 10000, "I2": 0, "I3": 25000}
    assert int(f.disputed_amount[0]) == 10000
    assert int(f.balance[0]) == 25000
    assert int(f.total_balance[0]) == 35000


def test_money_left_after_undisputed_invoices_pays_disputed_ones(policy):
    acc = make_account(invoices=THREE)
    history = [ev("dispute_opened", at(days_ago(30)), invoice_id="I2"),
               ev("payment", at(days_ago(5)), amount="450.00")]
    assert open_by_invoice(facts(policy, acc, history)) == {"I1": 0, "I2": 15000, "I3": 0}


# ---- disputes --------------------------------------------------------------------------------

def test_disputed_invoice_is_excluded_from_balance_and_days_past_due(policy):
    acc = make_account(invoices=THREE)
    history = [ev("dispute_opened", at(days_ago(10)), invoice_id="I1")]
    d = decide(acc, history, policy, NOW)
    assert d.balance.amount == Decimal("500.00")
    assert d.total_balance.amount == Decimal("600.00")
    assert d.disputed_amount.amount == Decimal("100.00")
    # the oldest undisputed invoice (I2, due 2026-10-01) sets the days past due
    assert d.days_past_due == (TODAY - datetime(2026, 10, 1).date()).days == 52
    assert d.overdue_balance.amount == Decimal("500.00")


def test_resolved_dispute_counts_again(policy):
    acc = make_account(invoices=THREE)
    history = [ev("dispute_opened", at(days_ago(10)), invoice_id="I1"),
               ev("dispute_resolved", at(days_ago(2)), invoice_id="I1")]
    d = decide(acc, history, policy, NOW)
    assert (d.balance.amount, d.disputed_amount.amount, d.days_past_due) == (Decimal("600.00"), 0, 82)


def test_account_wide_dispute_covers_every_invoice(policy):
    acc = make_account(invoices=THREE)
    d = decide(acc, [ev("dispute_opened", at(days_ago(10)))], policy, NOW)
    assert d.balance.amount == 0 and d.disputed_amount.amount == Decimal("600.00")
    assert d.action is None


def test_account_scope_disputes_pause_the_whole_account(policy_doc):
    import copy

    from arrears.engine.policy.compiler import compile_policy
    doc = copy.deepcopy(policy_doc)
    doc["pauses"]["dispute"]["scope"] = "account"
    p = compile_policy(doc)
    acc = make_account(invoices=THREE)
    d = decide(acc, [ev("dispute_opened", at(days_ago(10)), invoice_id="I1")], p, NOW)
    assert d.balance.amount == Decimal("600.00")            # nothing excluded ...
    assert d.action is None                                 # ... but collection is paused
    assert [s.rule for s in d.suppressions] == ["pause.dispute"]


# ---- days past due in the debtor's local time ------------------------------------------------

def test_days_past_due_uses_the_debtors_local_date(policy):
    # 2026-11-22T15:00Z is already 2026-11-23 02:00 in Sydney (UTC+11 in November).
    sydney = make_account(timezone="Australia/Sydney", due_date="2026-11-22")
    london = make_account(timezone="Europe/London", due_date="2026-11-22")
    assert decide(sydney, [], policy, NOW).days_past_due == 1
    assert decide(london, [], policy, NOW).days_past_due == 0
    # an hour before Sydney's midnight it is still the due date there
    before = datetime(2026, 11, 22, 12, 59, 59, tzinfo=timezone.utc)
    assert decide(sydney, [], policy, before).days_past_due == 0


def test_days_past_due_west_of_utc(policy):
    # 2026-11-23T03:00Z is still 22 Nov (22:00) in New York
    ny = make_account(timezone="America/New_York", due_date="2026-11-22")
    t = datetime(2026, 11, 23, 3, tzinfo=timezone.utc)
    assert decide(ny, [], policy, t).days_past_due == 0
    assert decide(make_account(due_date="2026-11-22"), [], policy, t).days_past_due == 1


def test_missing_timezone_uses_the_policy_default(policy):
    t = datetime(2026, 7, 22, 23, 30, tzinfo=timezone.utc)   # 00:30 BST on 23 July in London
    acc = make_account(timezone=None, due_date="2026-07-22")
    assert decide(acc, [], policy, t).days_past_due == 1


def test_days_past_due_negative_before_due_and_none_when_nothing_open(policy):
    assert decide(make_account(due_date="2026-12-02"), [], policy, NOW).days_past_due == -10
    paid = [ev("payment", at(days_ago(3)), amount="1000.00")]      # too old for a thank-you
    d = decide(make_account(), paid, policy, NOW)
    assert d.days_past_due is None and d.balance.amount == 0 and d.action is None


# ---- promises ----------------------------------------------------------------------------------

def promise(made_ago, until_ago, amount="500.00"):
    return ev("promise_to_pay", at(days_ago(made_ago)), amount=amount, until=str(days_ago(until_ago)))


@pytest.mark.parametrize("history, open_, broken", [
    # promised for 4 days ago, 2 days' tolerance: the last day was 2 days ago -> broken
    ([promise(10, 4)], False, 1),
    # promised for 2 days ago: today is the last day of tolerance -> still open
    ([promise(10, 2)], True, 0),
    # promised date in the future -> open
    ([promise(3, -5)], True, 0),
    # paid in full within tolerance -> kept
    ([promise(10, 4), ev("payment", at(days_ago(3)), amount="500.00")], False, 0),
    # paid on the last tolerance day, just before local midnight -> kept
    ([promise(10, 4), ev("payment", at(days_ago(2), 23, 59), amount="500.00")], False, 0),
    # paid a day too late -> broken
    ([promise(10, 4), ev("payment", at(days_ago(1)), amount="500.00")], False, 1),
    # part-payment only -> broken
    ([promise(10, 4), ev("payment", at(days_ago(3)), amount="499.99")], False, 1),
    # several payments add up -> kept
    ([promise(10, 4), ev("payment", at(days_ago(8)), amount="200.00"),
      ev("payment", at(days_ago(3)), amount="300.00")], False, 0),
    # a payment made before the promise does not keep it
    ([ev("payment", at(days_ago(11)), amount="500.00"), promise(10, 4)], False, 1),
    # a promise made for a date beyond max_days (45) is broken 45 days after it was made
    ([promise(50, -30)], False, 1),
    ([promise(40, -30)], True, 0),
    # two broken promises
    ([promise(60, 50), promise(10, 4)], False, 2),
])
def test_promises(policy, history, open_, broken):
    f = facts(policy, make_account(due_date=days_ago(60), amount="2000.00"), history)
    assert bool(f.promises["open"][0]) is open_
    assert int(f.promises_broken(365)[0]) == broken


def test_broken_promises_window(policy):
    history = [promise(400, 390), promise(100, 90), promise(10, 4)]
    f = facts(policy, make_account(due_date=days_ago(500), amount="5000.00"), history)
    assert int(f.promises_broken(365)[0]) == 2
    assert int(f.promises_broken(30)[0]) == 1
    assert int(f.promises_broken(1000)[0]) == 3


def test_promise_deadline_is_local_midnight_after_the_last_day(policy):
    acc = make_account(due_date=days_ago(60), timezone="Australia/Sydney")
    f = facts(policy, acc, [promise(3, -5)])
    # promised for 27 Nov (+2 days' tolerance): lapses at 00:00 on 30 Nov in Sydney
    assert int(f.promises["latest_deadline"][0]) == int(datetime(2026, 11, 29, 13, tzinfo=timezone.utc).timestamp())


# ---- payment plans ------------------------------------------------------------------------------

def plan(made_ago, *instalments):
    return ev("payment_plan", at(days_ago(made_ago)),
              instalments=[{"due_date": str(days_ago(d)), "amount": a} for d, a in instalments])


@pytest.mark.parametrize("history, active, good", [
    # first instalment due in the future
    ([plan(5, (-5, "300.00"), (-35, "700.00"))], True, True),
    # instalment due 3 days ago, unpaid: within 3 days' tolerance
    ([plan(20, (3, "300.00"), (-27, "700.00"))], True, True),
    # instalment due 4 days ago, unpaid: missed
    ([plan(20, (4, "300.00"), (-26, "700.00"))], True, False),
    # paid on time
    ([plan(20, (4, "300.00"), (-26, "700.00")), ev("payment", at(days_ago(4)), amount="300.00")], True, True),
    # part-paid: missed
    ([plan(20, (4, "300.00"), (-26, "700.00")), ev("payment", at(days_ago(4)), amount="299.00")], True, False),
    # a payment made before the plan does not count towards it
    ([ev("payment", at(days_ago(21)), amount="300.00"), plan(20, (4, "300.00"), (-26, "700.00"))],
     True, False),
    # every instalment paid: the plan is complete, no longer active
    ([plan(20, (4, "300.00"), (1, "200.00")), ev("payment", at(days_ago(2)), amount="500.00")], False, False),
    # cancelled
    ([plan(20, (-5, "300.00")), ev("payment_plan_cancelled", at(days_ago(1)))], False, False),
    # a new plan after a cancellation is in force again
    ([plan(20, (-5, "300.00")), ev("payment_plan_cancelled", at(days_ago(3))),
      plan(1, (-10, "300.00"))], True, True),
])
def test_payment_plans(policy, history, active, good):
    f = facts(policy, make_account(due_date=days_ago(60), amount="1000.00"), history)
    assert (bool(f.plan["active"][0]), bool(f.plan["good"][0])) == (active, good)


# ---- stop states -----------------------------------------------------------------------------

@pytest.mark.parametrize("state, start, end", [
    ("bankrupt", "bankruptcy", "bankruptcy_ended"),
    ("represented", "represented", "representation_ended"),
    ("breathing_space", "breathing_space", "breathing_space_ended"),
    ("hold", "hold", "hold_released"),
    ("hardship", "hardship", "hardship_ended"),
])
def test_states_open_and_close_with_later_events(policy, state, start, end):
    acc = make_account(due_date=days_ago(60))
    cases = [
        ([], False),
        ([ev(start, at(days_ago(5)))], True),
        ([ev(start, at(days_ago(5))), ev(end, at(days_ago(2)))], False),
        ([ev(start, at(days_ago(9))), ev(end, at(days_ago(5))), ev(start, at(days_ago(2)))], True),
        # an end event before the state began does not lift it
        ([ev(end, at(days_ago(9))), ev(start, at(days_ago(2)))], True),
    ]
    for history, expected in cases:
        assert bool(facts(policy, acc, history).states[state][0][0]) is expected, history


@pytest.mark.parametrize("state, start", [("deceased", "deceased"),
                                          ("cease_communication", "cease_communication")])
def test_permanent_states_have_no_end_event(policy, state, start):
    acc = make_account(due_date=days_ago(60))
    f = facts(policy, acc, [ev(start, at(days_ago(400)))])
    assert bool(f.states[state][0][0])


@pytest.mark.parametrize("state, start, until_ago, expected", [
    ("hold", "hold", -3, True),
    ("hold", "hold", 0, True),                     # in force through its last day
    ("hold", "hold", 1, False),
    ("breathing_space", "breathing_space", 1, False),
    ("hardship", "hardship", -10, True),
])
def test_states_end_on_their_until_date(policy, state, start, until_ago, expected):
    f = facts(policy, make_account(due_date=days_ago(60)),
              [ev(start, at(days_ago(20)), until=str(days_ago(until_ago)))])
    assert bool(f.states[state][0][0]) is expected


# ---- channel opt-outs ------------------------------------------------------------------------

def bits(mask) -> set:
    return {k for k, c in KIND_CODES.items() if int(mask) >> c & 1}


@pytest.mark.parametrize("history, opted_out", [
    ([("channel_opt_out", 5, "sms")], {"sms"}),
    ([("channel_opt_out", 5, "sms"), ("channel_opt_in", 2, "sms")], set()),
    ([("channel_opt_in", 5, "sms"), ("channel_opt_out", 2, "sms")], {"sms"}),
    ([("channel_opt_out", 5, "sms"), ("channel_opt_in", 2, "email")], {"sms"}),
    ([("channel_opt_out", 5, "sms"), ("channel_opt_out", 4, "call"), ("channel_opt_in", 1, "call")], {"sms"}),
])
def test_opt_out_and_opt_in_latest_wins(policy, history, opted_out):
    f = facts(policy, make_account(), [ev(t, at(days_ago(d)), channel=c) for t, d, c in history])
    assert bits(f.opted_out[0]) == opted_out
    all_kinds = {"email", "sms", "call", "letter", "webhook", "task"}
    assert bits(f.reachable[0]) == all_kinds - opted_out


# ---- contact windows --------------------------------------------------------------------------

def test_contact_windows_count_attempts_only(policy):
    history = [
        ev("contact_attempt", at(days_ago(1)), channel="email", outcome="sent"),
        ev("contact_attempt", at(days_ago(2)), channel="sms", outcome="delivered"),
        ev("contact_attempt", at(days_ago(3)), channel="sms", outcome="failed"),       # never left us
        ev("contact_attempt", at(days_ago(3)), channel="call", outcome="queued"),      # not yet made
        ev("contact_outcome", at(days_ago(3)), channel="call", outcome="no_answer"),
        ev("contact_attempt", at(days_ago(6)), channel="call", outcome="conversation"),
        ev("contact_attempt", at(days_ago(20)), channel="letter", outcome="sent"),
        ev("note", at(days_ago(1))),
    ]
    f = facts(policy, make_account(), history)
    assert int(f.contacts(7)[0]) == 4
    assert int(f.contacts(30)[0]) == 5
    assert int(f.contacts(7, "sms")[0]) == 1
    assert int(f.contacts(7, "call")[0]) == 2
    assert int(f.contacts(30, "letter")[0]) == 1
    assert int(f.conversations(30)[0]) == 1
    assert int(f.last_contact_at[0]) == as_epoch(at(days_ago(1)))


def test_an_outcome_report_is_not_a_second_attempt(policy):
    # the email went out once; its delivery report must not count as another contact
    history = [ev("contact_attempt", at(days_ago(1)), channel="email", outcome="sent"),
               ev("contact_outcome", at(days_ago(1), 11), channel="email", outcome="delivered"),
               ev("contact_attempt", at(days_ago(2)), channel="letter", outcome="sent"),
               ev("contact_outcome", at(days_ago(1), 12), channel="letter", outcome="returned")]
    f = facts(policy, make_account(), history)
    assert int(f.contacts(7)[0]) == 2
    assert int(f.contacts(7, "email")[0]) == 1


def test_contact_window_is_rolling_days_up_to_now(policy):
    edge = NOW - timedelta(days=7)
    history = [ev("contact_attempt", edge, channel="email", outcome="sent"),
               ev("contact_attempt", edge + timedelta(seconds=1), channel="email", outcome="sent")]
    assert int(facts(policy, make_account(), history).contacts(7)[0]) == 1


# ---- events after now are ignored -------------------------------------------------------------

def test_events_after_now_are_ignored(policy):
    later = NOW + timedelta(seconds=1)
    history = [ev("payment", later, amount="1000.00"), ev("bankruptcy", later),
               ev("dispute_opened", later), ev("channel_opt_out", later, channel="email"),
               ev("contact_attempt", later, channel="email", outcome="sent", stage="friendly_reminder"),
               ev("promise_to_pay", later, amount="1000.00", until="2026-12-01")]
    acc = make_account(due_date=days_ago(10))
    f = facts(policy, acc, history)
    assert int(f.balance[0]) == 100000
    assert not f.states["bankrupt"][0][0]
    assert int(f.opted_out[0]) == 0
    assert int(f.progress["last_stage"][0]) == -1
    assert not f.promises["open"][0]
    # The decision is the one without them, except that it is made again when they take effect
    # (never sooner than a minute after now).
    with_later, without = decide(acc, history, policy, NOW), decide(acc, [], policy, NOW)
    assert with_later.next_evaluation_at == NOW + timedelta(minutes=1) < without.next_evaluation_at
    assert (with_later.to_json().replace(rfc3339(with_later.next_evaluation_at),
                                         rfc3339(without.next_evaluation_at)) == without.to_json())


def test_events_at_exactly_now_count(policy):
    acc = make_account(due_date=days_ago(10))
    d = decide(acc, [ev("payment", NOW, amount="400.00")], policy, NOW)
    assert d.balance.amount == Decimal("600.00")


# ---- money precision --------------------------------------------------------------------------

@pytest.mark.parametrize("currency, amounts, paid, expected", [
    ("JPY", ["1000", "2500"], "1200", "2300"),
    ("BHD", ["10.125", "0.333"], "10.126", "0.332"),
    ("EUR", ["0.10", "0.20"], "0.30", "0.00"),
])
def test_balances_are_exact_in_each_currencys_minor_unit(policy, currency, amounts, paid, expected):
    invoices = [{"id": f"I{k}", "amount": a, "due_date": "2026-10-01"} for k, a in enumerate(amounts)]
    d = decide(make_account(currency=currency, invoices=invoices),
               [ev("payment", at(days_ago(1)), amount=paid)], policy, NOW)
    assert d.balance.amount == Decimal(expected)
    assert str(d.balance.amount) == expected          # the currency's own number of decimals


def test_amounts_beyond_the_largest_accepted_are_refused_naming_the_invoice(policy):
    invoices = [{"id": "a", "amount": "50000000000000000", "due_date": "2026-10-01"}]
    with pytest.raises(InputError, match="invoice a.*larger than the largest amount accepted"):
        decide(make_account(invoices=invoices), [], policy, NOW)


def test_many_invoices_at_the_largest_amount_sum_exactly(policy):
    invoices = [{"id": f"i{k}", "amount": "1000000000000.00", "due_date": "2026-10-01"} for k in range(50)]
    d = decide(make_account(invoices=invoices), [], policy, NOW)
    assert d.balance.amount == Decimal("50000000000000.00")


@pytest.mark.parametrize("currency, amount", [("EUR", "12.345"), ("JPY", "100.5"), ("BHD", "0.0004")])
def test_amounts_finer_than_the_minor_unit_are_refused(policy, currency, amount):
    acc = make_account(currency=currency, amount=amount)
    with pytest.raises(InputError, match=f"more decimal places than {currency} allows"):
        decide(acc, [], policy, NOW)
