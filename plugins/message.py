"""The values that travel between the host and channel plugins.

`Message`: one contact to deliver: the action the engine decided, who it goes to, the
template context, and (once rendered) the subject and body. `DeliveryResult`: what a
channel reports back. Both are plain frozen values with a JSON form, so the host can keep
them in its outbox and a plugin can be tested without the engine.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from arrears.engine.domain.decision import rfc3339
from arrears.engine.domain.model import parse_instant

SENT = "sent"
FAILED_RETRYABLE = "failed_retryable"
FAILED_PERMANENT = "failed_permanent"
STATUSES = (SENT, FAILED_RETRYABLE, FAILED_PERMANENT)
BODY_FORMATS = ("text", "html")


@dataclass(frozen=True)
class Recipient:
    """How to reach the debtor, copied from the account's `Contact`."""

    email: str | None = None
    phone: str | None = None
    mobile: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class Message:
    """One contact for (account, stage, attempt), before or after rendering.

    `content` lists the compliance flags the message must honour (`opt_out`, `disclosure`,
    `validation_notice`, `first_message`). `context` holds the JSON-ready template
    variables; `metadata` carries host facts a channel may use (`priority`, `debtor_id`,
    `account_manager`, `policy_digest`, `evaluated_at`, `timezone`).
    """

    account_id: str
    action_type: str
    stage: str
    attempt: int
    channel: str
    channel_kind: str
    template: str
    tone: str
    language: str
    not_before: datetime
    recipient: Recipient = field(default_factory=Recipient)
    content: tuple[str, ...] = ()
    context: Mapping[str, Any] = field(default_factory=dict)
    metadata: Mapping[str, Any] = field(default_factory=dict)
    subject: str | None = None
    body: str | None = None
    body_format: str = "text"

    @property
    def idempotency_key(self) -> str:
        """`account:stage:attempt[:episode]:channel`: the same contact on the same channel
        always has the same key (`contact_key` plus the policy channel's name).

        The tick adds the collection episode (the oldest unpaid due date) to `metadata`, so
        a stage contacted again in a later delinquency episode gets a new key and a provider
        that remembers keys does not drop it. The channel is part of the key because a
        contact that failed on one channel falls back to the next under the same outbox
        row: a provider that carries both channels must not drop the fallback as a
        duplicate of the failed try.
        """
        return f"{self.contact_key}:{self.channel}"

    @property
    def contact_key(self) -> str:
        """`account:stage:attempt[:episode]`: the contact whatever channel carries it (the
        outbox row's identity)."""
        key = f"{self.account_id}:{self.stage}:{self.attempt}"
        episode = self.metadata.get("episode") if self.metadata else None
        return f"{key}:{episode}" if episode else key

    @property
    def rendered(self) -> bool:
        """True once a body has been rendered."""
        return self.body is not None

    def has(self, flag: str) -> bool:
        """True if the compliance flag `flag` is set on this message."""
        return flag in self.content

    def with_rendering(self, subject: str | None, body: str, body_format: str = "text") -> Message:
        """A copy carrying the rendered subject and body."""
        if body_format not in BODY_FORMATS:
            raise ValueError(f"body_format must be one of {BODY_FORMATS}, got {body_format!r}")
        return replace(self, subject=subject, body=body, body_format=body_format)

    def to_dict(self) -> dict:
        """JSON-ready form (for the outbox and for webhook payloads)."""
        data = asdict(self)
        data["not_before"] = rfc3339(self.not_before)
        data["content"] = list(self.content)
        data["context"] = dict(self.context)
        data["metadata"] = dict(self.metadata)
        data["idempotency_key"] = self.idempotency_key
        return data

    @classmethod
    def from_dict(cls, data: Mapping) -> Message:
        """Inverse of `to_dict` (the derived `idempotency_key` is ignored)."""
        data = {k: v for k, v in data.items() if k != "idempotency_key"}
        data["not_before"] = parse_instant(data["not_before"], "message.not_before")
        data["recipient"] = Recipient(**(data.get("recipient") or {}))
        data["content"] = tuple(data.get("content") or ())
        return cls(**data)


@dataclass(frozen=True)
class PaymentLink:
    """What an `arrears_payment_link` plugin returns: the link, and when it stops working.

    `expires_at` (aware datetime) may be left out; the host then uses the expiry it proposed.
    The amount and currency are the host's (those it asked the plugin to mint the link for).
    """

    url: str
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Rendered:
    """What rendering produced: an optional subject and a text or HTML body."""

    body: str
    subject: str | None = None
    body_format: str = "text"


@dataclass(frozen=True)
class DeliveryResult:
    """The outcome of one delivery attempt.

    `status` is `sent`, `failed_retryable` (the host retries later, with backoff) or
    `failed_permanent` (the host gives up and records why). `provider_id` is the id the
    provider gave the message, if any; `detail` a human-readable explanation. `outcome`
    is the contact outcome to record in history (see `arrears.engine.domain.model.CONTACT_OUTCOMES`);
    when None it is `sent` for a sent message and `failed` otherwise (a queued call task
    reports `queued`). `retry_at` (aware datetime, retryable failures only) is when the
    provider asked to be tried again (HTTP `Retry-After`): the host schedules the next try
    then, and does not count this try against the row's retries (the provider was busy,
    the message was not refused), so a rate limit never exhausts a row or sends it to the
    next channel.
    """

    status: str
    provider_id: str | None = None
    detail: str = ""
    outcome: str | None = None
    retry_at: datetime | None = None

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {self.status!r}")
        if self.retry_at is not None:
            if self.status != FAILED_RETRYABLE:
                raise ValueError("retry_at is for failed_retryable results only")
            if not isinstance(self.retry_at, datetime) or self.retry_at.tzinfo is None:
                raise ValueError(f"retry_at must be an aware datetime, got {self.retry_at!r}")

    @classmethod
    def sent(cls, provider_id: str | None = None, detail: str = "", outcome: str | None = None):
        """A successful delivery."""
        return cls(SENT, provider_id, detail, outcome)

    @classmethod
    def retryable(cls, detail: str, provider_id: str | None = None, retry_at: datetime | None = None):
        """A failure worth retrying later (timeouts, 5xx, over capacity); `retry_at`: when the
        provider asked to be tried again (a rate limit), if it said."""
        return cls(FAILED_RETRYABLE, provider_id, detail, retry_at=retry_at)

    @classmethod
    def permanent(cls, detail: str, provider_id: str | None = None):
        """A failure that retrying will not fix (no address, rejected by the provider)."""
        return cls(FAILED_PERMANENT, provider_id, detail)

    @property
    def ok(self) -> bool:
        """True if the message went out."""
        return self.status == SENT

    @property
    def contact_outcome(self) -> str:
        """The outcome to record on the `contact_attempt` event."""
        return self.outcome or ("sent" if self.ok else "failed")

    def to_dict(self) -> dict:
        """JSON-ready form."""
        data = {"status": self.status, "provider_id": self.provider_id, "detail": self.detail,
                "outcome": self.contact_outcome}
        if self.retry_at is not None:
            data["retry_at"] = rfc3339(self.retry_at)
        return data


def contact_event(message: Message, result: DeliveryResult, at: datetime) -> dict:
    """The `contact_attempt` event (in `Event.from_dict` form) recording a delivery attempt.

    Its id is the idempotency key for a sent message, so recording the same success twice
    is detectable; failed attempts carry no id (each is its own event).
    """
    event = {"type": "contact_attempt", "at": rfc3339(at), "channel": message.channel_kind,
             "stage": message.stage, "outcome": result.contact_outcome}
    if result.ok:
        event["id"] = message.idempotency_key
    return event


# What a provider can report after a message left: the receipt status -> the contact outcome
# recorded in history (a bounce is the `returned` outcome letters already use).
RECEIPT_OUTCOMES = {"delivered": "delivered", "read": "read", "bounced": "returned", "replied": "replied"}


@dataclass(frozen=True)
class Receipt:
    """A provider's asynchronous report on a message it accepted earlier.

    `provider_id` is the id the channel returned in its `DeliveryResult` (the host stored it
    on the outbox row); `status` one of `delivered`, `read`, `bounced`, `replied`; `at` when
    it happened (aware datetime); `detail` free text for the audit log. Record it with
    `arrears.engine.tick.receipts.record_receipt(store, receipt)`.
    """

    provider_id: str
    status: str
    at: datetime
    detail: str = ""

    def __post_init__(self):
        if self.status not in RECEIPT_OUTCOMES:
            raise ValueError(f"receipt status must be one of {', '.join(RECEIPT_OUTCOMES)}, "
                             f"got {self.status!r}")
        if not isinstance(self.provider_id, str) or not self.provider_id:
            raise ValueError("a receipt needs the provider's message id")
        if not isinstance(self.at, datetime) or self.at.tzinfo is None:
            raise ValueError(f"receipt time must be an aware datetime, got {self.at!r}")

    @property
    def outcome(self) -> str:
        """The contact outcome the receipt records."""
        return RECEIPT_OUTCOMES[self.status]
