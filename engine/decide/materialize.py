"""Turn one row of a DecisionBatch into a `Decision` with its plain-words trace.

This is the only per-account Python in the core, and it runs only for the accounts
whose full decision someone asks for (the API, explain, the store for changed ones).
"""
from __future__ import annotations

from arrears.engine.decide import suppress
from arrears.engine.decide.escalation import REASONS
from arrears.engine.decide.trace import build_trace
from arrears.engine.domain.clock import from_epoch
from arrears.engine.domain.decision import Action, Decision, Fees, Offer, PolicyRef, Priority
from arrears.engine.domain.money import Money, from_minor
from arrears.engine.guardrails.ruletext import content_names


def _money(db, minor, row: int) -> Money:
    cur = db.facts.b.currency[row]
    return Money(from_minor(int(minor), cur), cur)


def action_of(db, row: int) -> Action | None:
    """The `Action` decided for account `row` of the batch, or None when there is none."""
    if not db.action_ok[row]:
        return None
    p, f, st = db.policy, db.facts, db.steps
    stage = p.stages[st.step[row]]
    channel = stage.channels[db.guarded.channel[row]]
    tone = stage.tone
    if db.offers.loyal[row] and p.incentives.loyalty.get("tone") and tone in ("friendly", "neutral",
                                                                             "firm"):
        tone = p.incentives.loyalty["tone"]
    lang = f.language[row]
    if lang not in p.templates.get(stage.template, ()):
        lang = p.default_language
    return Action(type=stage.action, stage=stage.id, attempt=int(st.attempt[row]), channel=channel,
                  channel_kind=p.channels[channel], template=stage.template, tone=tone,
                  language=lang, not_before=from_epoch(db.not_before[row]),
                  reason=REASONS[st.reason[row]], account_manager=f.b.manager[row],
                  content=content_names(int(db.guarded.content[row])))


def offers_of(db, row: int) -> tuple[Offer, ...]:
    """The offers (discount, settlement, plan) made to account `row` of the batch."""
    o, out = db.offers, []
    bal = db.facts.balance[row]
    if o.early[row]:
        out.append(Offer("early_payment_discount", _money(db, bal - o.early_amount[row], row),
                         _money(db, o.early_amount[row], row), from_epoch(o.early_expires[row])))
    if o.settle[row]:
        out.append(Offer("settlement", _money(db, o.settle_amount[row], row),
                         _money(db, o.settle_discount[row], row), from_epoch(o.settle_expires[row]),
                         bool(o.settle_approval[row])))
    return tuple(out)


def materialize(db, row: int) -> Decision:
    """The `Decision` of account `row`."""
    f, p, st = db.facts, db.policy, db.steps
    action = action_of(db, row)
    last = st.last[row]
    stage = action.stage if action else (p.stages[last].id if last >= 0 else None)
    segments = tuple(name for name in p.segments if f.segment_mask(name)[row])
    fees = None
    if p.fees.late_fee or p.fees.interest:
        fees = Fees(_money(db, db.offers.late_fee[row], row), _money(db, db.offers.interest[row], row),
                    bool(db.offers.frozen[row]), db.offers.frozen_why[row])
    has_open = f.total_balance[row] > 0
    return Decision(
        account_id=f.b.ids[row],
        evaluated_at=from_epoch(db.now),
        policy=PolicyRef(p.name, p.version, p.digest, p.profiles_digest),
        days_past_due=int(f.days_past_due[row]) if has_open else None,
        bucket=str(f.bucket_names[row]),
        balance=_money(db, f.balance[row], row),
        total_balance=_money(db, f.total_balance[row], row),
        overdue_balance=_money(db, f.overdue_balance[row], row),
        disputed_amount=_money(db, f.disputed_amount[row], row),
        priority=Priority(float(db.scores[row]), tuple(
            (fac.name, float(db.contributions[row, j])) for j, fac in enumerate(p.factors))),
        segments=segments,
        stage=stage,
        action=action,
        offers=offers_of(db, row),
        suppressions=suppress.for_row(db, row),
        fees=fees,
        next_evaluation_at=from_epoch(db.next_evaluation[row]),
        trace=build_trace(db, row),
        profiles=applied_profiles(db, row),
    )


def applied_profiles(db, row: int) -> tuple[str, ...]:
    """Ids of the jurisdiction profiles that apply to the account."""
    seen = []
    for rule, mask in db.rules:
        if mask[row] and rule.profile not in seen:
            seen.append(rule.profile)
    return tuple(seen)
