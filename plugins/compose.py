"""Turn a decision's action into an unrendered `Message` with its template context.

Pure: no clock, no I/O. The context is JSON-ready (money as `{"amount", "currency"}`,
dates as ISO strings) so a message can wait in the outbox and be rendered later.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from arrears.engine.domain.decision import Decision, rfc3339
from arrears.engine.domain.model import Account
from arrears.engine.domain.money import Money
from arrears.engine.guardrails.ruletext import CONTENT_BITS
from arrears.plugins.message import Message, Recipient


def _money(m: Money) -> dict:
    return m.to_json()


def template_context(decision: Decision, account: Account,
                     creditor: Mapping[str, Any] | None = None, default_timezone: str = "UTC") -> dict:
    """The variables every template sees (documented in docs/plugin-guide.md).

    `today` is the decision's date in the account's time zone (else `default_timezone`,
    which should be the policy's).
    """
    action = decision.action
    zone = ZoneInfo(account.timezone or default_timezone)
    offers = [o.to_dict() for o in decision.offers if not o.requires_approval]
    return {
        "account": {
            "id": account.id, "name": account.contact.name,
            "currency": account.currency, "debtor_type": account.debtor_type,
            "jurisdiction": account.jurisdiction, "language": account.language,
            "timezone": account.timezone, "account_manager": account.account_manager,
            "relationship_tier": account.relationship_tier, "tags": sorted(account.tags),
        },
        "creditor": dict(creditor or {}),
        "balance": _money(decision.balance),
        "total_balance": _money(decision.total_balance),
        "overdue_balance": _money(decision.overdue_balance),
        "disputed_amount": _money(decision.disputed_amount),
        # Each invoice with what is still open and its status, so a message lists only
        # what is owed (a paid invoice shows as `paid`, never as a debt).
        "invoices": [line.to_dict() for line in decision.invoices],
        "days_past_due": decision.days_past_due,
        "bucket": decision.bucket,
        "stage": action.stage,
        "attempt": action.attempt,
        "action": action.type,
        "tone": action.tone,
        "language": action.language,
        "channel_kind": action.channel_kind,
        "offers": offers,
        "fees": None if decision.fees is None else decision.fees.to_dict(),
        "content": list(action.content),
        "flags": {name: name in action.content for name in CONTENT_BITS},
        "previous_contact": _previous(decision, zone),
        # A payment link is minted at delivery (`Dispatcher.attach_payment_link`), once per
        # outbox message, and only when `payable`.
        "payable": decision.payable,
        "payment_link": None,
        "today": decision.evaluated_at.astimezone(zone).date().isoformat(),
        # A represented debtor: {"role": "representative" | "review", "representative": {name, firm,
        # email, phone, address}} (the action's `recipient`); None when the message goes to the debtor.
        "representation": action.recipient,
        "evaluated_at": rfc3339(decision.evaluated_at),
    }


def recipient_for(action, account: Account) -> Recipient:
    """Where the message goes: the debtor's own contact details, or, for a represented debtor, only
    the representative's (a review task for staff carries none): the debtor's are never used then."""
    if action.recipient is None:
        c = account.contact
        return Recipient(email=c.email, phone=c.phone, mobile=c.mobile, address=c.address)
    if action.recipient["role"] != "representative":
        return Recipient()
    rep = action.recipient.get("representative") or {}
    return Recipient(email=rep.get("email"), phone=rep.get("phone"), address=rep.get("address"))


def _previous(decision: Decision, zone: ZoneInfo) -> dict | None:
    """The last contact of this episode that reached the debtor, or None: wording such as
    "despite our previous reminder" is true only when this is set."""
    prev = decision.previous_contact
    if prev is None:
        return None
    return {**prev.to_dict(), "date": prev.at.astimezone(zone).date().isoformat()}


def build_message(decision: Decision, account: Account, *,
                  creditor: Mapping[str, Any] | None = None, default_timezone: str = "UTC") -> Message:
    """The unrendered message for `decision.action`; ValueError if there is no action."""
    action = decision.action
    if action is None:
        raise ValueError(f"decision for account {decision.account_id!r} has no action to deliver")
    if account.id != decision.account_id:
        raise ValueError(f"account {account.id!r} does not match decision for {decision.account_id!r}")
    return Message(
        account_id=decision.account_id, action_type=action.type, stage=action.stage,
        attempt=action.attempt, channel=action.channel, channel_kind=action.channel_kind,
        template=action.template, tone=action.tone, language=action.language,
        not_before=action.not_before,
        recipient=recipient_for(action, account),
        content=tuple(action.content),
        context=template_context(decision, account, creditor, default_timezone),
        metadata={
            "priority": decision.priority.score, "debtor_id": account.debtor_id,
            "account_manager": action.account_manager or account.account_manager,
            "policy": decision.policy.to_dict(), "evaluated_at": rfc3339(decision.evaluated_at),
            "timezone": account.timezone or default_timezone, "reason": action.reason,
        },
    )
