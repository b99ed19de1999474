"""Reading the outbox for the API: one row, or a page of rows newest first, with filters.

A row's `status` is as `outboxstore` keeps it (pending, sending, sent, failed, cancelled,
unknown); `retrying` is a view of it, a pending row that has been tried before (`tries` > 0),
waiting for `next_attempt_at` after the failure `last_error` names.
"""
from __future__ import annotations

from sqlalchemy import select

from arrears.engine.store.schema import accounts, outbox

STATUSES = ("pending", "retrying", "sending", "sent", "failed", "cancelled", "unknown")
_COLUMNS = (outbox.c.id, accounts.c.id.label("account_id"), outbox.c.decision_id, outbox.c.stage,
            outbox.c.attempt, outbox.c.channel, outbox.c.status, outbox.c.tries, outbox.c.next_attempt_at,
            outbox.c.created_at, outbox.c.updated_at, outbox.c.provider_id, outbox.c.last_error,
            outbox.c.claimed_at)


def _base():
    return select(*_COLUMNS).select_from(outbox.join(accounts, accounts.c.acct_no == outbox.c.acct_no))


def get(conn, row_id: int):
    """One outbox row with its account's id, or None."""
    return conn.execute(_base().where(outbox.c.id == row_id)).one_or_none()


def page(conn, *, status: str | None, channel: str | None, account_id: str | None,
         after: int | None, limit: int) -> list:
    """Up to `limit` rows newest first (by id), before id `after`; `status` one of STATUSES
    (`retrying`: pending and tried before; `pending`: every pending row, retrying ones too)."""
    stmt = _base()
    if status == "retrying":
        stmt = stmt.where(outbox.c.status == "pending", outbox.c.tries > 0)
    elif status is not None:
        stmt = stmt.where(outbox.c.status == status)
    if channel is not None:
        stmt = stmt.where(outbox.c.channel == channel)
    if account_id is not None:
        stmt = stmt.where(accounts.c.id == account_id)
    if after is not None:
        stmt = stmt.where(outbox.c.id < after)
    return conn.execute(stmt.order_by(outbox.c.id.desc()).limit(limit)).all()
