"""Reading the audit log a page at a time, optionally only the entries about one account.

For the API's `GET /v1/audit` (oldest first) and the console's audit log page (newest
first, `audit_newest`). Each function takes an open connection (a read
transaction). Pages use keyset pagination: `after` is the seq of the last entry seen.
"""
from __future__ import annotations

import json

from sqlalchemy import and_, or_, select

from arrears.engine.store.codec import canonical
from arrears.engine.store.schema import accounts, audit, events


def _account_condition(account_id: str, acct_no: int):
    """Audit entries about one account: named as the subject, recording its events, its
    last change, or listing it among the accounts of an upsert batch."""
    batch_seqs = select(events.c.audit_seq).where(events.c.acct_no == acct_no)
    last_change = select(accounts.c.audit_seq).where(accounts.c.acct_no == acct_no)
    listed = and_(audit.c.kind == "accounts.upserted",
                  audit.c.body.contains(canonical(account_id), autoescape=True))
    return or_(audit.c.subject == account_id, audit.c.seq.in_(batch_seqs),
               audit.c.seq.in_(last_change), listed)


def audit_page(conn, *, account_id: str | None, acct_no: int | None, since: int | None,
               kind: str | None, after: int | None, limit: int) -> tuple[list, int | None]:
    """Audit entries in seq order matching the filters, after seq `after`.

    Returns (entries, last seq examined if the page was full, else None).
    """
    stmt = select(audit)
    if account_id is not None:
        stmt = stmt.where(_account_condition(account_id, acct_no))
    if since is not None:
        stmt = stmt.where(audit.c.at >= since)
    if kind is not None:
        stmt = stmt.where(audit.c.kind == kind)
    if after is not None:
        stmt = stmt.where(audit.c.seq > after)
    rows = conn.execute(stmt.order_by(audit.c.seq).limit(limit)).all()
    last = rows[-1].seq if len(rows) == limit else None
    if account_id is not None:
        # The LIKE on upsert bodies is a pre-filter: keep an entry only if the id is really listed.
        own = _own(conn, acct_no)
        rows = [r for r in rows if r.kind != "accounts.upserted" or r.subject == account_id
                or r.seq in own or account_id in (json.loads(r.body).get("ids") or [])]
    return rows, last


def _own(conn, acct_no: int) -> set:
    row = conn.execute(select(accounts.c.audit_seq).where(accounts.c.acct_no == acct_no)).one_or_none()
    return {row.audit_seq} if row is not None else set()


def audit_newest(conn, *, kind: str | None = None, subject: str | None = None, acct_no: int | None = None,
                 before: int | None = None, limit: int = 50) -> tuple[list, int | None]:
    """Audit entries newest first, before seq `before` (keyset paging, for the console).

    `kind`: one kind (`key.created`), or all kinds under a prefix ending in a dot (`user.`).
    `subject`: entries about it; when it is a stored account's id (`acct_no` given), also the
    entries recording its events, its last change and the upsert batches listing it.
    Returns (entries, the seq to page on from when the page was full, else None).
    """
    stmt = select(audit)
    if kind:
        stmt = stmt.where(audit.c.kind.startswith(kind, autoescape=True) if kind.endswith(".")
                          else audit.c.kind == kind)
    if subject and acct_no is not None:
        stmt = stmt.where(_account_condition(subject, acct_no))
    elif subject:
        stmt = stmt.where(audit.c.subject == subject)
    if before is not None:
        stmt = stmt.where(audit.c.seq < before)
    rows = conn.execute(stmt.order_by(audit.c.seq.desc()).limit(limit)).all()
    last = rows[-1].seq if len(rows) == limit else None
    if subject and acct_no is not None:
        own = _own(conn, acct_no)
        rows = [r for r in rows if r.kind != "accounts.upserted" or r.subject == subject
                or r.seq in own or subject in (json.loads(r.body).get("ids") or [])]
    return rows, last
