"""The structured parts of one row's decision, as domain values: action, offers, suppressions,
the jurisdiction profiles applied, and (when asked for) the plain-words trace.

Both the `Decision` (engine/decisions/materialize.py) and the decision JSON the API writes
(engine/decisions/decision_json.py) take them from here, each part built once per row.
"""
from __future__ import annotations

from typing import NamedTuple

from arrears.engine.decisions import suppress
from arrears.engine.decisions.escalation import REASONS
from arrears.engine.decisions.trace import build_trace
from arrears.engine.domain.clock import from_epoch
from arrears.engine.domain.decision import Action, Offer
from arrears.engine.domain.money import Money, from_minor
from arrears.engine.guardrails.jurisdiction import HOUSE
from arrears.engine.guardrails.ruletext import content_names


class Parts(NamedTuple):
    """One row's structured parts (see the module docstring)."""

    action: Action | None
    offers: tuple
    suppressions: tuple
    profiles: tuple
    trace: tuple | None       # TraceSteps; None: not asked for (the JSON then has no `trace`)


def parts_of(db, row: int, trace: bool) -> Parts:
    """Row `row`'s action, offers, suppressions and profiles, and its trace if `trace`."""
    return Parts(action_of(db, row), offers_of(db, row), suppress.for_row(db, row), applied_profiles(db, row),
                 build_trace(db, row) if trace else None)


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


def applied_profiles(db, row: int) -> tuple[str, ...]:
    """Ids of the jurisdiction profiles that apply to the account (not the house hours)."""
    seen = []
    for rule, mask in db.rules:
        if mask[row] and rule.profile not in seen and rule.profile != HOUSE:
            seen.append(rule.profile)
    return tuple(seen)
