"""Delivery receipts: a provider's later word on a message (delivered, read, bounced, replied).

    from arrears.engine.tick.receipts import record_receipt
    from arrears.plugins.message import Receipt

    outcome = record_receipt(store, Receipt("SM123", "delivered", at=when))

A channel plugin calls it from wherever its provider's callbacks arrive (its own web hook
receiver, a polling job): it needs no API and no running tick. The outbox row is found by the
provider id the channel returned when it sent the message; the receipt is appended to the
account's history as a `contact_outcome` event (on the channel kind that carried the message,
for its stage) under the key `receipt:<outbox id>:<status>`, through the store's idempotent
append: a provider that repeats a callback records it once. A `contact_outcome` on a message
channel reports on an attempt already counted, so a receipt never counts as another contact.
Each recorded receipt has an audit entry.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from arrears.engine.domain.clock import as_epoch
from arrears.engine.domain.decision import rfc3339
from arrears.engine.domain.model import Event
from arrears.engine.store import outboxstore
from arrears.engine.store.db import read_transaction

RECORDED, DUPLICATE, UNKNOWN = "recorded", "duplicate", "unknown"


@dataclass(frozen=True)
class ReceiptOutcome:
    """What `record_receipt` did: `recorded`, `duplicate` (recorded before) or `unknown` (no
    delivered message has that provider id, or it went through a call channel), and the
    outbox row and account it concerns."""

    status: str
    outbox_id: int | None = None
    account_id: str | None = None
    reason: str = ""


def record_receipt(store, receipt, *, now: datetime | None = None) -> ReceiptOutcome:
    """Append `receipt` (an `arrears.plugins.message.Receipt`) to the history of the account
    whose delivered message the provider knows by `receipt.provider_id`; see the module
    docstring. `now` (default: the receipt's time) stamps the audit entry. Never raises for
    an unknown provider id: the outcome says so."""
    with read_transaction(store.engine) as conn:
        found = outboxstore.by_provider_id(conn, receipt.provider_id)
    if not found:
        return ReceiptOutcome(UNKNOWN, reason=f"no delivered message has provider id {receipt.provider_id!r}")
    oid, _acct_no, account_id, stage, _channel, payload = found[-1]
    kind = (json.loads(payload).get("message") or {}).get("channel_kind")
    if kind is None or kind == "call":
        return ReceiptOutcome(UNKNOWN, oid, account_id, "receipts are for messages (a call's outcome is "
                                                        "recorded by the agent)")
    event = Event.from_dict({"type": "contact_outcome", "at": rfc3339(receipt.at), "channel": kind,
                             "stage": stage, "outcome": receipt.outcome})
    key = f"receipt:{oid}:{receipt.status}"
    with store.transaction(now=as_epoch(now or receipt.at)) as w:
        report = w.append_events([(account_id, event, key)])
        if report.duplicates:
            return ReceiptOutcome(DUPLICATE, oid, account_id, "recorded before")
        w.audit("delivery.receipt", account_id, {"outbox_id": oid, "provider_id": receipt.provider_id,
                                                 "status": receipt.status, "at": rfc3339(receipt.at),
                                                 "detail": receipt.detail})
    return ReceiptOutcome(RECORDED, oid, account_id)
