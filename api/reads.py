"""Read queries the API needs beyond `Store`'s methods: accounts with their bookkeeping,
pages of events, policy versions and audit entries.

Each function takes an open connection (a read transaction, or the caller's write
transaction when it must see its own writes) and uses the store's table metadata.
Pages use keyset pagination: `after` is the sort key of the last row already seen.
"""
from __future__ import annotations

import json

from sqlalchemy import and_, or_, select

from arrears.engine.store.codec import account_from_row, canonical
from arrears.engine.store.schema import accounts, audit, events, invoices, policy_versions


def account(conn, account_id: str):
    """(Account, accounts row) of a stored account, or None."""
    row = conn.execute(select(accounts).where(accounts.c.id == account_id)).one_or_none()
    if row is None:
        return None
    inv = conn.execute(select(invoices).where(invoices.c.acct_no == row.acct_no)
                       .order_by(invoices.c.due_day, invoices.c.invoice_id)).all()
    return account_from_row(row, inv), row


def account_ref(conn, account_id: str):
    """(acct_no, currency) of a stored account, or None."""
    row = conn.execute(select(accounts.c.acct_no, accounts.c.currency)
                       .where(accounts.c.id == account_id)).one_or_none()
    return None if row is None else (row.acct_no, row.currency)


def events_page(conn, acct_no: int, after: tuple | None, limit: int) -> list:
    """Up to `limit` event rows of an account in history order (at, seq), after `after`."""
    stmt = select(events).where(events.c.acct_no == acct_no)
    if after is not None:
        at, seq = after
        stmt = stmt.where(or_(events.c.at > at, and_(events.c.at == at, events.c.seq > seq)))
    return conn.execute(stmt.order_by(events.c.at, events.c.seq).limit(limit)).all()


def events_recorded(conn, acct_no: int, audit_seq: int) -> list:
    """The event rows one append recorded for an account, in seq order."""
    return conn.execute(select(events).where(events.c.acct_no == acct_no, events.c.audit_seq == audit_seq)
                        .order_by(events.c.seq)).all()


def events_by_key(conn, acct_no: int, keys) -> dict:
    """{event_key: row} for stored events of an account with these keys."""
    keys = list(dict.fromkeys(keys))
    if not keys:
        return {}
    rows = conn.execute(select(events).where(events.c.acct_no == acct_no, events.c.event_key.in_(keys))).all()
    return {row.event_key: row for row in rows}


def policy_page(conn, after: int | None, limit: int) -> list:
    """Policy versions, newest first, after the version id `after`."""
    stmt = select(policy_versions)
    if after is not None:
        stmt = stmt.where(policy_versions.c.id < after)
    return conn.execute(stmt.order_by(policy_versions.c.id.desc()).limit(limit)).all()


def policy_by_digest(conn, digest: str):
    """The policy version with this digest, or None."""
    return conn.execute(select(policy_versions).where(policy_versions.c.digest == digest)).one_or_none()


def active_policy_row(conn):
    """The active policy version row, or None."""
    return conn.execute(select(policy_versions).where(policy_versions.c.active.is_(True))).one_or_none()


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
