"""Reading one account: the account with its bookkeeping row, and its history a page at a time.

For the API (beyond `Store`'s methods). Each function takes an open connection (a read
transaction, or the caller's write transaction when it must see its own writes). Pages use
keyset pagination: `after` is the sort key of the last row already seen.
"""
from __future__ import annotations

from sqlalchemy import and_, or_, select

from arrears.engine.store.codec import account_from_row
from arrears.engine.store.db import chunks
from arrears.engine.store.schema import accounts, events, invoices


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


def seqs_recorded(conn, acct_nos, audit_seq: int) -> list[int]:
    """The seqs of the events one append (audit entry `audit_seq`) recorded for these accounts,
    ascending: the order the append inserted them in."""
    out: list[int] = []
    for part in chunks(sorted(set(acct_nos)), 900):
        out += conn.execute(select(events.c.seq).where(events.c.acct_no.in_(part),
                                                       events.c.audit_seq == audit_seq)).scalars()
    return sorted(out)


def events_by_key(conn, acct_no: int, keys) -> dict:
    """{event_key: row} for stored events of an account with these keys."""
    keys = list(dict.fromkeys(keys))
    if not keys:
        return {}
    rows = conn.execute(select(events).where(events.c.acct_no == acct_no, events.c.event_key.in_(keys))).all()
    return {row.event_key: row for row in rows}


def events_by_id(conn, acct_no: int, ids) -> dict:
    """{event_id: row} for stored events of an account with these event ids (the first
    recorded, should a database written before revision 0005 hold two)."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return {}
    rows = conn.execute(select(events).where(events.c.acct_no == acct_no, events.c.event_id.in_(ids))
                        .order_by(events.c.seq.desc())).all()
    return {row.event_id: row for row in rows}


def search(conn, text: str, limit: int) -> list:
    """Accounts whose id starts with `text`, or whose debtor id or account manager is `text`
    (each an indexed or small lookup, never a scan of every account's JSON), by id, with
    their latest decision's stage, action and channel: rows of (id, currency, debtor_type,
    debtor_id, account_manager, next_evaluation_at, stage, action_type, channel, evaluated_at)."""
    from arrears.engine.store.schema import decisions
    cols = (accounts.c.id, accounts.c.currency, accounts.c.debtor_type, accounts.c.debtor_id,
            accounts.c.account_manager, accounts.c.next_evaluation_at, decisions.c.stage,
            decisions.c.action_type, decisions.c.channel, decisions.c.evaluated_at)
    base = select(*cols).select_from(accounts.outerjoin(decisions, decisions.c.id == accounts.c.decision_id))
    found, seen = [], set()
    for where in (and_(accounts.c.id >= text, accounts.c.id < text + "\U0010ffff"),
                  accounts.c.debtor_id == text, accounts.c.account_manager == text):
        for row in conn.execute(base.where(where).order_by(accounts.c.id).limit(limit)):
            if row.id not in seen and len(found) < limit:
                seen.add(row.id)
                found.append(row)
    return sorted(found, key=lambda r: r.id)
