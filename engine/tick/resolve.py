"""Settle an `unknown` outbox row by hand, once someone has found out what happened.

A row is `unknown` when the process delivering it died after claiming it: the provider
may or may not have received it, and the tick never guesses (re-sending could contact a
debtor twice; recording "sent" could hide a contact that never happened). Until it is
settled, the account's escalation waits at that step: the engine keeps deciding the same
contact, and the outbox keeps refusing to queue it twice.

List them (`arrears outbox unknown`), check with the provider (its logs, the
idempotency key `account:stage:attempt:episode`), then settle each one:

    resolve_unknown(store, None, outbox_id, sent=True, now=now, note="seen in the ESP log",
                    provider_id="esp-123", by="j.smith")

`sent=True` records the contact as sent (a `contact_attempt` event, so caps and stage
progress count it); `sent=False` records a failed attempt, so the engine may choose the
stage's next channel (or retry it on a later tick after an operator re-queues it).
Settling is exactly once: the row changes only while it is still `unknown`, in the same
transaction as its contact event (keyed `outbox:ID`, or `outbox:ID/N` for a row's N-th
outcome: see `outboxstore.contact_event_key`) and its audit entry.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import yaml

from arrears.engine.domain.clock import as_epoch, from_epoch
from arrears.engine.domain.decision import rfc3339
from arrears.engine.domain.errors import InputError
from arrears.engine.domain.model import Event
from arrears.engine.store import outboxstore, policyvers
from arrears.engine.store.db import connect


@dataclass(frozen=True)
class UnknownRow:
    """An outbox row whose delivery outcome is unknown, with what an operator needs to check it."""

    id: int
    account_id: str
    stage: str
    attempt: int
    episode_key: str
    channel: str
    claimed_at: int | None
    claimed_by: str | None
    last_error: str | None

    @property
    def idempotency_key(self) -> str:
        """The key the provider was given (`Message.idempotency_key`): search its logs for it."""
        key = f"{self.account_id}:{self.stage}:{self.attempt}"
        key = f"{key}:{self.episode_key}" if self.episode_key else key
        return f"{key}:{self.channel}"

    def to_dict(self) -> dict:
        """JSON-ready form (times as RFC 3339)."""
        return {"id": self.id, "account_id": self.account_id, "stage": self.stage, "attempt": self.attempt,
                "episode": self.episode_key or None, "channel": self.channel,
                "idempotency_key": self.idempotency_key,
                "claimed_at": None if self.claimed_at is None else rfc3339(from_epoch(self.claimed_at)),
                "claimed_by": self.claimed_by, "last_error": self.last_error}


def list_unknown(store) -> list[UnknownRow]:
    """Every `unknown` outbox row, oldest first."""
    with connect(store.engine) as conn:
        return [UnknownRow(*row) for row in outboxstore.unknown_rows(conn)]


def resolve_unknown(store, policy, outbox_id: int, *, sent: bool, now: datetime, note: str = "",
                    provider_id: str | None = None, by: str | None = None) -> None:
    """Mark an `unknown` row `sent` or `failed`, record the contact event, audit it.

    `policy` (optional) maps the row's policy channel to its kind; without it, or if it
    has no such channel, the policy version that made the row's decision does. `note`,
    `provider_id` (the provider's message id, when it has one) and `by` (who settled
    it) go into the audit entry. Raises InputError if the row does not exist or is not
    `unknown` (it was settled before): nothing is changed then.
    """
    now_s = as_epoch(now)
    with store.transaction(now=now_s) as w:
        row = outboxstore.settling(w.conn, outbox_id)
        if row is None or row.status != "unknown":
            found = "no such row" if row is None else f"it is {row.status}"
            raise InputError(f"outbox row {outbox_id} is not unknown ({found})", "outbox_id")
        kind = _channel_kind(w.conn, row, policy)
        status = "sent" if sent else "failed"
        values = {"status": status, "updated_at": now_s, "last_error": None if sent else note or None}
        if provider_id:
            values["provider_id"] = provider_id
        if not outboxstore.settle_unknown(w.conn, outbox_id, **values):
            # only possible if a writer got past the store's write lock
            raise InputError(f"outbox row {outbox_id} was settled meanwhile", "outbox_id")
        at = rfc3339(from_epoch(row.claimed_at or now_s))      # when it was (maybe) sent
        event = Event.from_dict({"type": "contact_attempt", "at": at, "channel": kind,
                                 "stage": row.stage, "outcome": status})
        w.append_events([(row.id, event, outboxstore.contact_event_key(w.conn, row.acct_no, outbox_id))])
        w.audit(f"delivery.resolved.{status}", row.id,
                {"outbox_id": outbox_id, "stage": row.stage, "attempt": row.attempt, "channel": row.channel,
                 "note": note, "provider_id": provider_id, "by": by}, reseal={"outbox": [outbox_id]})


def _channel_kind(conn, row, policy) -> str:
    """The channel kind of the row's policy channel (the event records kinds, not names)."""
    if policy is not None and row.channel in policy.channels:
        return policy.channels[row.channel]
    source = None
    if row.decision_id is not None:
        source = policyvers.source_of_decision(conn, row.decision_id)
    if source is None:
        source = (policyvers.active(conn) or {}).get("source")
    try:
        # The stored source was checked when it was stored; only its channels are needed here.
        kind = (yaml.safe_load(source or "") or {}).get("channels", {}).get(row.channel, {}).get("kind")
    except (yaml.YAMLError, AttributeError):
        kind = None
    if not isinstance(kind, str):
        raise InputError(f"cannot tell the kind of channel {row.channel!r}: neither the policy that "
                         "queued the contact nor the active one defines it", "outbox_id")
    return kind
