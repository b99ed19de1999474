"""Turn one row of a DecisionBatch into a `Decision` with its plain-words trace.

This is the only per-account Python in the core, and it runs only for the accounts
whose full decision someone asks for (the API, explain, the store for changed ones).
The account's values are read through the JSON writer's own `Columns` (as a `Row`) and the
parts are built once (engine/decisions/parts.py); the Decision gets a `DecisionForm` of both,
so its JSON is written by engine/decisions/decision_json.py, the one writer of a decision's JSON.
"""
from __future__ import annotations

from arrears.engine.decisions.decision_json import Columns, DecisionForm
from arrears.engine.decisions.parts import invoices_of, parts_of, payable, previous_contact_of
from arrears.engine.domain.clock import from_epoch
from arrears.engine.domain.decision import Decision, Fees, PolicyRef, Priority
from arrears.engine.domain.money import Money, from_minor


def materialize(db, row: int) -> Decision:
    """The `Decision` of account `row`."""
    cols = Columns(db, row)
    r, basis = cols.row(0), cols.basis
    parts = parts_of(db, row, trace=True)
    cur = r.currency

    def money(minor: int) -> Money:
        return Money(from_minor(minor, cur), cur)
    fees = None if r.fees is None else Fees(money(r.fees[0]), money(r.fees[1]), r.fees[2], r.fees[3])
    return Decision(
        account_id=r.account_id,
        evaluated_at=from_epoch(basis.now),
        policy=PolicyRef(*basis.policy),
        days_past_due=r.days_past_due,
        bucket=r.bucket,
        balance=money(r.balance),
        total_balance=money(r.total_balance),
        overdue_balance=money(r.overdue_balance),
        disputed_amount=money(r.disputed_amount),
        priority=Priority(r.score, tuple(zip(basis.factors, r.contributions))),
        segments=r.segments,
        stage=r.stage(parts.action),
        action=parts.action,
        offers=parts.offers,
        suppressions=parts.suppressions,
        fees=fees,
        next_evaluation_at=from_epoch(r.next_evaluation),
        trace=parts.trace,
        profiles=parts.profiles,
        invoices=invoices_of(db, row),
        previous_contact=previous_contact_of(db, row),
        payable=payable(db, row),
        json_form=DecisionForm(basis, r, parts),
    )
