"""Turn one row of a DecisionBatch into a `Decision` with its plain-words trace.

This is the only per-account Python in the core, and it runs only for the accounts
whose full decision someone asks for (the API, explain, the store for changed ones).
The row's values are read through the JSON writer's own `Columns` and the parts are built
once (engine/decide/parts.py); the Decision gets a `DecisionForm` of both, so its JSON is
written by engine/decide/decision_json.py, the one writer of a decision's JSON.
"""
from __future__ import annotations

from arrears.engine.decide.decision_json import Columns, DecisionForm
from arrears.engine.decide.parts import parts_of
from arrears.engine.domain.clock import from_epoch
from arrears.engine.domain.decision import Decision, Fees, PolicyRef, Priority
from arrears.engine.domain.money import Money, from_minor


def materialize(db, row: int) -> Decision:
    """The `Decision` of account `row`."""
    c = Columns(db, row)
    parts = parts_of(db, row, trace=True)
    cur = c.currency[0]

    def money(minor: int) -> Money:
        return Money(from_minor(minor, cur), cur)
    fees = None
    if c.has_fees:
        fees = Fees(money(c.late_fee[0]), money(c.interest[0]), bool(c.frozen[0]), c.frozen_why[0])
    return Decision(
        account_id=c.ids[0],
        evaluated_at=from_epoch(db.now),
        policy=PolicyRef(*c.policy_ref),
        days_past_due=c.days_past_due[0],
        bucket=c.bucket[0],
        balance=money(c.balance[0]),
        total_balance=money(c.total_balance[0]),
        overdue_balance=money(c.overdue_balance[0]),
        disputed_amount=money(c.disputed_amount[0]),
        priority=Priority(c.scores[0], tuple(zip(c.factors, c.contributions[0]))),
        segments=tuple(c.segments_of(0)),
        stage=c.stage_of(0, parts.action),
        action=parts.action,
        offers=parts.offers,
        suppressions=parts.suppressions,
        fees=fees,
        next_evaluation_at=from_epoch(c.next_evaluation[0]),
        trace=parts.trace,
        profiles=parts.profiles,
        json_form=DecisionForm(c, parts),
    )
