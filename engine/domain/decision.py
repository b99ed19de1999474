"""The Decision: what the engine decided for one account, and why.

Plain immutable values. `Decision.to_dict()` gives the JSON form the API, the CLI and the
store use: money as decimal strings with a currency, times as RFC 3339 UTC, keys in a
fixed order, so equal decisions serialise to equal bytes. That JSON is written in one
place, `arrears.engine.decisions.decision_json`, which also writes it for the API straight
from a batch's columns; this layer is below it and cannot import it, so the engine hands
each Decision it makes its form (`json_form`) and the Decision asks that form for its
JSON. The parts that are values of their own say how they are written here (`to_dict()`,
and `fees_json` / `money.money_json` for fees and money the writer holds as minor units),
and the writer uses them.
"""
from __future__ import annotations

from dataclasses import InitVar, dataclass, field
from datetime import date, datetime
from typing import Protocol

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
    # Only for a represented debtor: {"role": "representative" | "review", "representative": {...}}
    # (the representative's name, firm and contact details when the represented event named them).
    recipient: dict | None = None
    # Who works the step, when the stage assigns it (`assign_to: account_manager`) and the account
    # has a manager: their name; None: the general queue of the channel.
    assignee: str | None = None

    def to_dict(self):
        out = {"type": self.type, "stage": self.stage, "attempt": self.attempt,
               "channel": self.channel, "channel_kind": self.channel_kind,
               "template": self.template, "tone": self.tone, "language": self.language,
               "not_before": rfc3339(self.not_before), "reason": self.reason,
               "account_manager": self.account_manager, "content": list(self.content)}
        if self.recipient is not None:        # absent for the debtor: the JSON is what it was
            out["recipient"] = self.recipient
        if self.assignee is not None:         # absent for the general queue, likewise
            out["assignee"] = self.assignee
        return out


@dataclass(frozen=True)
class Offer:
    """An incentive: pay `amount` (saving `discount`) before `expires_at`."""

    kind: str
    amount: Money
    discount: Money
    expires_at: datetime
    requires_approval: bool = False
    # Why approval is needed: which figure is above which threshold (only when it is needed).
    approval_reasons: tuple[str, ...] = ()

    def to_dict(self):
        out = {"kind": self.kind, "amount": self.amount.to_json(),
               "discount": self.discount.to_json(), "expires_at": rfc3339(self.expires_at),
               "requires_approval": self.requires_approval}
        if self.requires_approval:          # absent otherwise: the JSON is what it was
            out["approval_reasons"] = list(self.approval_reasons)
        return out


INVOICE_STATUSES = ("open", "partly_paid", "paid", "disputed")


@dataclass(frozen=True)
class InvoiceLine:
    """One invoice as the engine sees it at the decision: what is still open, and its status.

    `status`: `paid` (nothing open), `disputed` (open under an unresolved dispute),
    `partly_paid` (part of it paid) or `open`. `overdue`: open, undisputed and past its due
    date, so the overdue invoices add up to the decision's `overdue_balance`.
    """

    id: str
    amount: Money
    open: Money
    due_date: date
    status: str
    overdue: bool

    def to_dict(self):
        return {"id": self.id, "amount": self.amount.to_json(), "open": self.open.to_json(),
                "due_date": self.due_date.isoformat(), "status": self.status, "overdue": self.overdue}


@dataclass(frozen=True)
class PriorContact:
    """The latest contact of the current collection episode that reached the debtor.

    Reached: a message sent or delivered, a voicemail left, a conversation held (an
    unanswered, failed or only queued attempt reached nobody). `count` is how many such
    contacts the episode has had, so wording can say "reminder" or "reminders".
    """

    at: datetime
    channel_kind: str
    stage: str | None
    count: int

    def to_dict(self):
        return {"at": rfc3339(self.at), "channel": self.channel_kind, "stage": self.stage,
                "count": self.count}


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
        return fees_json(self.late_fee.to_json(), self.interest.to_json(), self.frozen, self.note)


def fees_json(late_fee: dict, interest: dict, frozen: bool, note: str | None) -> dict:
    """The fees' JSON form, from the amounts' JSON (`Fees.to_dict` and the decision writer)."""
    return {"late_fee": late_fee, "interest": interest, "frozen": frozen, "note": note}


@dataclass(frozen=True)
class TraceStep:
    """One step of the evaluation: what was looked at and what came of it."""

    step: str
    outcome: str
    detail: str = ""
    # Where in the policy the step's rule is written (`file:line:col`); "" for the engine's own
    # steps and for a policy compiled from a bare dict.
    source: str = ""

    def to_dict(self):
        return {"step": self.step, "outcome": self.outcome, "detail": self.detail, "source": self.source}


class JsonForm(Protocol):
    """What writes a Decision's JSON (`arrears.engine.decisions.decision_json.DecisionForm`)."""

    def to_dict(self) -> dict: ...

    def to_json(self) -> str: ...


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
    # What a message about this decision may say (not part of the decision's JSON): each
    # invoice's open amount and status, the last contact that reached the debtor in this
    # episode, and whether payment may be asked for by link (something is owed and the
    # account is not disputed, ceased, bankrupt, deceased, represented or in breathing space).
    invoices: tuple[InvoiceLine, ...] = ()
    previous_contact: PriorContact | None = None
    payable: bool = False
    # The writer's form of this decision (engine/decisions/decision_json.py), given by the engine
    # that made it; not copied by dataclasses.replace, whose result the engine did not decide.
    json_form: InitVar[JsonForm | None] = None
    _json_form: JsonForm | None = field(init=False, default=None, repr=False, compare=False)

    def __post_init__(self, json_form):
        object.__setattr__(self, "_json_form", json_form)

    def _form(self) -> JsonForm:
        if self._json_form is None:
            raise ValueError(f"the Decision for {self.account_id!r} has no JSON form: only a Decision the "
                             "engine made has one (DecisionBatch.decision), and dataclasses.replace() does "
                             "not copy it")
        return self._json_form

    def to_dict(self) -> dict:
        """JSON-ready form (a fresh dict); equal decisions give equal dicts."""
        return self._form().to_dict()

    def to_json(self) -> str:
        """Canonical JSON text (sorted keys, no spaces)."""
        return self._form().to_json()
