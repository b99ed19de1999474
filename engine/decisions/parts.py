"""The structured parts of one row's decision, as domain values: action, offers, suppressions,
the jurisdiction profiles applied, and (when asked for) the plain-words trace.

Both the `Decision` (engine/decisions/materialize.py) and the decision JSON the API writes
(engine/decisions/decision_json.py) take them from here, each part built once per row.
"""
from __future__ import annotations

from typing import NamedTuple

from arrears.engine.decisions import offers, suppress
from arrears.engine.decisions.escalation import REASONS
from arrears.engine.decisions.trace import build_trace
from arrears.engine.domain.clock import from_epoch
from arrears.engine.domain.batch import day_to_date
from arrears.engine.domain.decision import Action, InvoiceLine, Offer, PriorContact
from arrears.engine.domain.model import CHANNEL_KINDS
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
    stage = p.actions[st.step[row]]
    channel = stage.channels[db.guarded.channel[row]]
    template = stage.templates[db.guarded.channel[row]]     # the one named for this channel's kind
    tone = stage.tone
    if db.offers.loyal[row] and p.incentives.loyalty.get("tone") and tone in ("friendly", "neutral",
                                                                             "firm"):
        tone = p.incentives.loyalty["tone"]
    template, recipient = recipient_of(db, row, stage, template)
    lang = f.language[row]
    if lang not in p.templates.get(template, ()):
        lang = p.default_language
    return Action(type=stage.action, stage=stage.id, attempt=int(st.attempt[row]), channel=channel,
                  channel_kind=p.channels[channel], template=template, tone=tone,
                  language=lang, not_before=from_epoch(db.not_before[row]),
                  reason=REASONS[st.reason[row]], account_manager=f.b.manager[row],
                  content=content_names(int(db.guarded.content[row])), recipient=recipient,
                  assignee=assignee_of(db, row, stage, channel))


PERSONAL_KINDS = ("call", "task")     # the channel kinds a person works (a work queue)


def assignee_of(db, row: int, stage, channel: str) -> str | None:
    """Who works row's step: the account manager when the stage says `assign_to: account_manager`,
    the account has one and the step goes out on a call or task channel; else None."""
    manager = db.facts.b.manager[row]
    if stage.assign_to != "account_manager" or not manager:
        return None
    return manager if db.policy.channels[channel] in PERSONAL_KINDS else None


def recipient_of(db, row: int, stage, template: str) -> tuple[str, dict | None]:
    """(template, recipient) of row's step: the channel's `template` and None for the debtor; for
    a represented debtor (when the policy routes them), the representative's template and who they
    are, or the review template and `role: review` for the manual-review task."""
    rep, f = db.policy.representation, db.facts
    if rep is None or not f.representative["active"][row]:
        return template, None
    who = f.representative["who"][row]
    named = {} if who is None else {"representative": who.to_dict()}
    if db.guarded.review is not None and db.guarded.review[row]:
        return rep.review_template, {"role": "review", **named}
    return stage.representative_template or rep.template, {"role": "representative", **named}


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
                         bool(o.settle_approval[row]), offers.settlement_approval(db, row)))
    return tuple(out)


def invoices_of(db, row: int) -> tuple[InvoiceLine, ...]:
    """Each invoice of account `row`: its open amount and status, as the balances count them."""
    f, b = db.facts, db.facts.b
    out = []
    for i in f.invoice_rows(row).tolist():
        amount, left = int(b.inv_amount[i]), int(f.invoice_open[i])
        status = ("paid" if left <= 0 else "disputed" if f.invoice_disputed[i]
                  else "partly_paid" if left < amount else "open")
        out.append(InvoiceLine(str(b.inv_id[i]), _money(db, amount, row), _money(db, max(left, 0), row),
                               day_to_date(int(b.inv_due[i])), status, bool(f.overdue_mask[i])))
    return tuple(out)


def previous_contact_of(db, row: int) -> PriorContact | None:
    """The latest contact of the episode that reached the debtor, or None if none has."""
    latest, count = db.facts.reached
    event = int(latest[row])
    if event < 0:
        return None
    b = db.facts.b
    kind = int(b.ev_kind[event])
    return PriorContact(from_epoch(int(b.ev_at[event])), CHANNEL_KINDS[kind] if kind >= 0 else "unknown",
                        b.ev_stage[event], int(count[row]))


def payable(db, row: int) -> bool:
    """Payment may be asked for (by a payment link): something is owed and no state that
    excludes offers (a dispute, cease, bankruptcy, death, representation, breathing space)."""
    return bool(db.facts.owes[row] and not db.offers.excluded[row])


def applied_profiles(db, row: int) -> tuple[str, ...]:
    """Ids of the jurisdiction profiles that apply to the account (not the house hours)."""
    seen = []
    for rule, mask in db.rules:
        # Universal rules (the debtor's wishes) have no profile; house hours are the policy's.
        if mask[row] and rule.profile and rule.profile not in seen and rule.profile != HOUSE:
            seen.append(rule.profile)
    return tuple(seen)
