"""Settle an `unknown` outbox row by hand, once someone has found out what happened.

A row is `unknown` when the process delivering it died after claiming it: the provider
may or may not have received it, and the tick never guesses (re-sending could contact a
debtor twice; recording "sent" could hide a contact that never happened). Until it is
settled, the account's escalation waits at that step: the engine keeps deciding the same
contact, and the outbox keeps refusing to queue it twice.

Check with the provider (its logs, its idempotency key `account:stage:attempt`), then:

    resolve_unknown(store, policy, outbox_id, sent=True, now=now, note="seen in the ESP log")

`sent=True` records the contact as sent (a `contact_attempt` event, so caps and stage
progress count it); `sent=False` records a failed attempt, so the engine may choose the
stage's next channel (or retry it on a later tick after an operator re-queues it).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from engine.decide import as_epoch, from_epoch
from engine.decision import rfc3339
from engine.errors import InputError
from engine.model import Event
from engine.store.schema import accounts, outbox


def resolve_unknown(store, policy, outbox_id: int, *, sent: bool, now: datetime, note: str = "") -> None:
    """Mark an `unknown` row `sent` or `failed`, record the contact event, audit it.

    Raises InputError if the row does not exist or is not `unknown`.
    """
    now_s = as_epoch(now)
    with store.transaction(now=now_s) as w:
        row = w.conn.execute(select(outbox.c.status, outbox.c.stage, outbox.c.channel, outbox.c.claimed_at,
                                    accounts.c.id).join(accounts, accounts.c.acct_no == outbox.c.acct_no)
                             .where(outbox.c.id == outbox_id)).one_or_none()
        if row is None or row.status != "unknown":
            found = "no such row" if row is None else f"it is {row.status}"
            raise InputError(f"outbox row {outbox_id} is not unknown ({found})", "outbox_id")
        status = "sent" if sent else "failed"
        w.conn.execute(update(outbox).where(outbox.c.id == outbox_id, outbox.c.status == "unknown")
                       .values(status=status, updated_at=now_s, last_error=None if sent else note or None))
        at = rfc3339(from_epoch(row.claimed_at or now_s))      # when it was (maybe) sent
        event = Event.from_dict({"type": "contact_attempt", "at": at, "channel": policy.channels[row.channel],
                                 "stage": row.stage, "outcome": status})
        w.append_events([(row.id, event, f"outbox:{outbox_id}")])
        w.audit(f"delivery.resolved.{status}", row.id, {"outbox_id": outbox_id, "note": note})
