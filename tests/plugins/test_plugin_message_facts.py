"""What a message may say: each invoice's open amount and status, and earlier contacts.

Messages list only what is still owed, with a total equal to the amount they demand (issue 11
item 17); wording that claims an earlier reminder appears only after a contact that reached the
debtor in this collection episode (item 20). Real decisions from the shipped policy, rendered by
the shipped templates.
"""
from __future__ import annotations

import re
from decimal import Decimal

from hypothesis import event, given, settings
from hypothesis import strategies as st

from arrears.engine.decisions.core import decide
from arrears.engine.policy.load import load_policy
from arrears.plugins.dispatch import Dispatcher
from arrears.plugins.testing import plugin_manager
from tests.core_factories import NOW, POLICY_PATH, ev, make_account
from tests.profiles import examples

POLICY = load_policy(POLICY_PATH)
LINE = re.compile(r"^- Invoice (\S+): €([\d,]+\.\d\d)", re.M)
TOTAL = re.compile(r"^Total due: €([\d,]+\.\d\d)$", re.M)


def rendered(account, events, at=NOW):
    """The decision and its message, composed and rendered as the tick does."""
    decision = decide(account, events, POLICY, at)
    dispatcher = Dispatcher(plugin_manager(), {"creditor": {"name": "Example Ltd"}})
    return decision, dispatcher.render(dispatcher.compose(decision, account))


def listed(body: str) -> dict[str, Decimal]:
    return {inv: Decimal(amount.replace(",", "")) for inv, amount in LINE.findall(body)}


def mixed_account(**overrides):
    return make_account(invoices=[
        {"id": "PAID", "amount": "100.00", "due_date": "2026-10-01"},
        {"id": "PART", "amount": "80.00", "due_date": "2026-10-20"},
        {"id": "DISP", "amount": "40.00", "due_date": "2026-10-25"},
        {"id": "LATER", "amount": "25.00", "due_date": "2026-12-15"}], **overrides)


MIXED_HISTORY = [ev("payment", "2026-10-05T10:00:00Z", amount="100.00", invoice_id="PAID"),
                 ev("payment", "2026-10-28T10:00:00Z", amount="30.00", invoice_id="PART"),
                 ev("dispute_opened", "2026-10-26T10:00:00Z", invoice_id="DISP")]


def test_each_invoice_carries_its_open_amount_and_status():
    decision = decide(mixed_account(), MIXED_HISTORY, POLICY, NOW)
    lines = {line.id: (str(line.open.amount), line.status, line.overdue) for line in decision.invoices}
    assert lines == {"PAID": ("0.00", "paid", False), "PART": ("50.00", "partly_paid", True),
                     "DISP": ("40.00", "disputed", False), "LATER": ("25.00", "open", False)}
    overdue = sum(line.open.amount for line in decision.invoices if line.overdue)
    assert overdue == decision.overdue_balance.amount == Decimal("50.00")


def test_a_reminder_lists_only_what_is_owed_and_totals_the_demand():
    """The issue's case: a paid invoice is not listed; the total is the amount demanded."""
    decision, message = rendered(mixed_account(), MIXED_HISTORY)
    assert decision.action.template in ("friendly_reminder", "firm_reminder")
    context = {inv["id"]: inv for inv in message.context["invoices"]}
    assert context["PAID"]["status"] == "paid" and context["PART"]["open"]["amount"] == "50.00"
    assert listed(message.body) == {"PART": Decimal("50.00")}
    assert "PAID" not in message.body and "DISP" not in message.body
    assert "€50.00 left to pay of €80.00" in message.body
    assert TOTAL.findall(message.body) == ["50.00"]


def test_a_formal_notice_lists_every_open_undisputed_invoice_and_totals_the_balance():
    account = mixed_account(contact={"address": "1 High Street"})
    history = MIXED_HISTORY + [
        ev("contact_attempt", f"2026-11-{d:02d}T10:00:00Z", channel="letter", stage=s, outcome="sent")
        for d, s in ((2, "friendly_reminder"), (5, "firm_reminder"))]
    decision, message = rendered(account, history, NOW.replace(month=12, day=10))
    assert decision.action.template == "formal_notice", decision.action
    assert message.body_format == "html"
    rows = re.findall(r"<tr><td>(\w+)</td><td>€([\d.]+)</td>", message.body)
    assert dict(rows) == {"PART": "50.00", "LATER": "25.00"}
    assert f"<th>Total due</th><td>€{decision.balance.amount}</td>" in message.body
    assert decision.balance.amount == Decimal("75.00")


@settings(max_examples=examples(40), deadline=None)
@given(invoices=st.lists(st.tuples(st.integers(1, 500), st.integers(0, 70), st.integers(0, 3)),
                         min_size=1, max_size=5),
       loose=st.integers(0, 300))
def test_listed_invoices_always_add_up_to_the_demand(invoices, loose):
    """Generated invoices (amount, days overdue, paid quarters) and an unallocated payment."""
    spec, history = [], []
    for i, (amount, late, quarters) in enumerate(invoices):
        due = f"2026-{11 if late < 21 else 10:02d}-{(21 - late) % 21 + 1:02d}"
        spec.append({"id": f"I{i}", "amount": f"{amount}.00", "due_date": due})
        if quarters:
            history.append(ev("payment", "2026-11-21T09:00:00Z", amount=f"{amount * quarters / 4:.2f}",
                              invoice_id=f"I{i}"))
    if loose:
        history.append(ev("payment", "2026-11-21T10:00:00Z", amount=f"{loose}.00"))
    account = make_account(invoices=spec)
    decision = decide(account, history, POLICY, NOW)
    if decision.action is None or decision.action.channel_kind != "email":
        event("no email")
        return
    event(f"{decision.action.template}, {sum(1 for i in decision.invoices if i.status == 'paid')} paid")
    _, message = rendered(account, history)
    demand = decision.overdue_balance if decision.action.template in ("friendly_reminder", "firm_reminder") \
        else decision.balance
    lines = listed(message.body)
    assert sum(lines.values(), Decimal(0)) == demand.amount
    assert TOTAL.findall(message.body) == [f"{demand.amount:,}"]
    paid = {line.id for line in decision.invoices if line.status == "paid"}
    assert not paid & set(lines)


# -- item 20: no claim of an earlier reminder that was never made -------------------------------
def firm_case(history):
    """A consumer 21 days late whose history was imported: the first step is a firm reminder."""
    account = make_account(amount="600.00", due_date="2026-11-01")
    decision, message = rendered(account, history)
    assert decision.action.stage == "firm_reminder", decision.action
    return message


def test_a_first_firm_reminder_claims_no_earlier_reminder():
    message = firm_case([ev("payment", "2026-11-10T10:00:00Z", amount="10.00")])
    assert message.context["previous_contact"] is None
    assert message.subject.startswith("Payment reminder:")
    assert "Despite" not in message.body and "Second" not in message.subject
    assert "€590.00 on your account remains unpaid" in message.body


def test_contacts_that_reached_nobody_or_belong_to_an_old_episode_do_not_count():
    history = [
        # a contact about an earlier, paid-off debt: another episode
        ev("contact_attempt", "2026-06-02T10:00:00Z", channel="email", stage="friendly_reminder",
           outcome="sent"),
        # this episode, but nothing reached the debtor
        ev("contact_attempt", "2026-11-05T10:00:00Z", channel="email", stage="friendly_reminder",
           outcome="failed"),
        ev("contact_attempt", "2026-11-06T10:00:00Z", channel="call", stage="friendly_reminder",
           outcome="no_answer")]
    message = firm_case(history)
    assert message.context["previous_contact"] is None
    assert "Despite" not in message.body


def test_after_a_reminder_reached_the_debtor_the_firm_reminder_says_so():
    history = [ev("contact_attempt", "2026-11-02T10:00:00Z", channel="email", stage="friendly_reminder",
                  outcome="sent")]
    message = firm_case(history)
    assert message.context["previous_contact"] == {"at": "2026-11-02T10:00:00Z", "date": "2026-11-02",
                                                   "channel": "email", "stage": "friendly_reminder",
                                                   "count": 1}
    assert message.subject.startswith("Further reminder:")
    assert "Despite our earlier reminder, €600.00 on your account remains unpaid" in message.body
