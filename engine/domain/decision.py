"""The Decision: what the engine decided for one account, and why.

Plain immutable values. `to_dict()` gives the JSON form the API, the CLI and the store
use: money as decimal strings with a currency, times as RFC 3339 UTC, keys in a fixed
order, so equal decisions serialise to equal bytes.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from arrears.engine.domain.money import Money


def rfc3339(t: datetime | None) -> str | None:
    """UTC time as `2026-11-22T15:00:00Z` (None stays None)."""
    return None if t is None else t.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class PolicyRef:
    """The policy (and guardrail profiles) a decision was made under."""

    name: str
    version: str
    digest: str
    profiles_digest: str = ""

    def to_dict(self):
        return {"name": self.name, "version": self.version, "digest": self.digest,
                "profiles_digest": self.profiles_digest}


@dataclass(frozen=True)
class Priority:
    """The 0-100 score and each factor's signed contribution to it."""

    score: float
    contributions: tuple[tuple[str, float], ...]

    def to_dict(self):
        return {"score": self.score, "contributions": dict(self.contributions)}


@dataclass(frozen=True)
class Action:
    """The next contact or step: what, how, and from when it may go out."""

    type: str
    stage: str
    attempt: int
    channel: str
    channel_kind: str
    template: str
    tone: str
    language: str
    not_before: datetime
    reason: str
    account_manager: str | None = None
    content: tuple[str, ...] = ()    # what the message must carry: opt_out, disclosure, …

    def to_dict(self):
        return {"type": self.type, "stage": self.stage, "attempt": self.attempt,
                "channel": self.channel, "channel_kind": self.channel_kind,
                "template": self.template, "tone": self.tone, "language": self.language,
                "not_before": rfc3339(self.not_before), "reason": self.reason,
                "account_manager": self.account_manager, "content": list(self.content)}


@dataclass(frozen=True)
class Offer:
    """An incentive: pay `amount` (saving `discount`) before `expires_at`."""

    kind: str
    amount: Money
    discount: Money
    expires_at: datetime
    requires_approval: bool = False

    def to_dict(self):
        return {"kind": self.kind, "amount": self.amount.to_json(),
                "discount": self.discount.to_json(), "expires_at": rfc3339(self.expires_at),
                "requires_approval": self.requires_approval}


@dataclass(frozen=True)
class Suppression:
    """A rule that held something back, why, and until when (None: until an event lifts it)."""

    rule: str
    reason: str
    until: datetime | None

    def to_dict(self):
        return {"rule": self.rule, "reason": self.reason, "until": rfc3339(self.until)}


@dataclass(frozen=True)
class Fees:
    late_fee: Money
    interest: Money
    frozen: bool
    note: str | None

    def to_dict(self):
        return {"late_fee": self.late_fee.to_json(), "interest": self.interest.to_json(),
                "frozen": self.frozen, "note": self.note}


@dataclass(frozen=True)
class TraceStep:
    """One step of the evaluation: what was looked at and what came of it."""

    step: str
    outcome: str
    detail: str = ""

    def to_dict(self):
        return {"step": self.step, "outcome": self.outcome, "detail": self.detail}


@dataclass(frozen=True)
class Decision:
    """Everything decided for one account at one moment under one policy."""

    account_id: str
    evaluated_at: datetime
    policy: PolicyRef
    days_past_due: int | None
    bucket: str
    balance: Money
    total_balance: Money
    overdue_balance: Money
    disputed_amount: Money
    priority: Priority
    segments: tuple[str, ...]
    stage: str | None
    action: Action | None
    offers: tuple[Offer, ...]
    suppressions: tuple[Suppression, ...]
    fees: Fees | None
    next_evaluation_at: datetime
    trace: tuple[TraceStep, ...]
    profiles: tuple[str, ...] = ()   # jurisdiction profiles applied

    def to_dict(self) -> dict:
        """JSON-ready form; equal decisions give equal dicts."""
        return {
            "account_id": self.account_id,
            "evaluated_at": rfc3339(self.evaluated_at),
            "policy": self.policy.to_dict(),
            "days_past_due": self.days_past_due,
            "bucket": self.bucket,
            "balance": self.balance.to_json(),
            "total_balance": self.total_balance.to_json(),
            "overdue_balance": self.overdue_balance.to_json(),
            "disputed_amount": self.disputed_amount.to_json(),
            "priority": self.priority.to_dict(),
            "segments": list(self.segments),
            "stage": self.stage,
            "action": None if self.action is None else self.action.to_dict(),
            "offers": [o.to_dict() for o in self.offers],
            "suppressions": [s.to_dict() for s in self.suppressions],
            "fees": None if self.fees is None else self.fees.to_dict(),
            "profiles": list(self.profiles),
            "next_evaluation_at": rfc3339(self.next_evaluation_at),
            "trace": [t.to_dict() for t in self.trace],
        }

    def to_json(self) -> str:
        """Canonical JSON text (sorted keys, no spaces)."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
