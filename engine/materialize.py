"""Turn one row of a DecisionBatch into a `Decision` with its plain-words trace.

This is the only per-account Python in the core, and it runs only for the accounts
whose full decision someone asks for (the API, explain, the store for changed ones).
"""
from __future__ import annotations

from engine.batch import day_to_date
from engine.decide import DecisionBatch, from_epoch
from engine.decision import (Action, Decision, Fees, Offer, PolicyRef, Priority, Suppression)
from engine.escalation import REASONS
from engine.facts import FAR, NEVER
from engine.ruletext import content_names, describe
from engine.money import Money, from_minor


def _money(db: DecisionBatch, minor, row: int) -> Money:
    cur = db.facts.b.currency[row]
    return Money(from_minor(int(minor), cur), cur)


def _time(t) -> object:
    return None if t >= FAR else from_epoch(t)


def _guardrail_suppressions(db: DecisionBatch, row: int) -> list[Suppression]:
    g, st = db.guarded, db.steps
    out = []
    if st.step[row] < 0:
        return out
    stage = db.policy.stages[st.step[row]]
    base = int(db.not_before[row]) if db.action_ok[row] else db.now
    chosen = g.channel[row]
    for rule, mask in db.rules:
        if not mask[row] or rule.id not in g.rule_until:
            continue
        mine = int(g.rule_until[rule.id][row])
        first = int(g.first_until[rule.id][row])
        if chosen >= 0 and mine > db.now and mine != NEVER and mine >= base:
            out.append(Suppression(rule.id, f"deferred: {describe(rule)}", _time(mine)))
        elif (g.moved[row] or g.blocked[row]) and first != NEVER and first > db.now:
            how = (f"moved to {stage.channels[chosen]}" if chosen >= 0 else "no channel permitted")
            out.append(Suppression(rule.id, f"{describe(rule)}; {how}", _time(first)))
    return out


def suppressions(db: DecisionBatch, row: int) -> tuple[Suppression, ...]:
    """Every rule holding this account's next step back, with its reason and end."""
    out = [Suppression(h.rule, h.reason(row), _time(h.until[row]))
           for h in db.holds if h.active[row]]
    st, f = db.steps, db.facts
    if st.grace_blocked[row]:
        end = f.oldest_due[row] + st.grace_days[row] + 1
        out.append(Suppression("grace", f"within {st.grace_days[row]} grace days after the due date",
                               from_epoch(f.midnight(end.reshape(1), [row])[0])))
    for rule, barred, since in db.bars:
        if barred[row] and st.barred[row]:
            out.append(Suppression(rule.id, f"debt is time-barred since {local_date(db, since[row])}: "
                                            f"{describe(rule)}", None))
    if not db.held[row]:        # while a hold is in force, its end is what matters
        out += _guardrail_suppressions(db, row)
    step = st.step[row]
    if step >= 0 and db.guarded.channel[row] < 0 and not out:
        stage = db.policy.stages[step]
        out.append(Suppression("channel.unavailable",
                               f"no usable channel among {', '.join(stage.channels)} (contact "
                               f"details missing, opted out or failed)", None))
    return tuple(out)


def _action(db: DecisionBatch, row: int) -> Action | None:
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


def _offers(db: DecisionBatch, row: int) -> tuple[Offer, ...]:
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


def materialize(db: DecisionBatch, row: int) -> Decision:
    """The `Decision` of account `row`."""
    from engine.trace import build_trace
    f, p, st = db.facts, db.policy, db.steps
    action = _action(db, row)
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
        offers=_offers(db, row),
        suppressions=suppressions(db, row),
        fees=fees,
        next_evaluation_at=from_epoch(db.next_evaluation[row]),
        trace=build_trace(db, row),
        profiles=applied_profiles(db, row),
    )


def applied_profiles(db: DecisionBatch, row: int) -> tuple[str, ...]:
    """Ids of the jurisdiction profiles that apply to the account."""
    seen = []
    for rule, mask in db.rules:
        if mask[row] and rule.profile not in seen:
            seen.append(rule.profile)
    return tuple(seen)


def local_date(db: DecisionBatch, day: int) -> str:
    """ISO date of an epoch day."""
    return day_to_date(day).isoformat()
