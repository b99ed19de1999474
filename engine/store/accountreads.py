"""Reading one account: the account with its bookkeeping row, and its history a page at a time.

For the API (beyond `Store`'s methods). Each function takes an open connection (a read
transaction, or the caller's write transaction when it must see its own writes). Pages use
keyset pagination: `after` is the sort key of the last row already seen.
"""
from __future__ import annotations

from sqlalchemy import and_, func, literal_column, or_, select

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


STATUSES = {"contact": "a contact is decided", "held": "a step is due but held back",
            "none": "nothing is due", "undecided": "not decided by a tick yet"}
SCAN_WINDOW = 20_000        # accounts a search by stage or status alone reads per page, at most


def email_of(conn):
    """SQL expression of an account's lower-cased contact email: the expression of the
    `ix_accounts_email` index (revision 0013), written as that index is."""
    # Literal text, not bound parameters: a database matches an index's expression only to the same
    # expression, and a parameter in place of '$.email' is not the same.
    if conn.dialect.name == "postgresql":
        return literal_column("lower(accounts.contact::jsonb ->> 'email')")
    return literal_column("lower(json_extract(accounts.contact, '$.email'))")


def name_of(conn):
    """SQL expression of an account's lower-cased contact name: the expression of the
    `ix_accounts_name` index (revision 0017), written as that index is (in the "C" collation on
    PostgreSQL, so a prefix's range is byte order there as on SQLite)."""
    if conn.dialect.name == "postgresql":
        return literal_column("lower(accounts.contact::jsonb ->> 'name') COLLATE \"C\"")
    return literal_column("lower(json_extract(accounts.contact, '$.name'))")


def name_starts(conn, prefix: str):
    """The condition "the contact's name starts with `prefix`, in any case": a range of the
    `ix_accounts_name` index (the prefix lower-cased by the database, as the index is)."""
    low = func.lower(prefix.strip())
    return and_(name_of(conn) >= low, name_of(conn) < low.concat("\U0010ffff"))


def _status(status: str):
    from arrears.engine.store.schema import decisions
    # The decision key ends with the rules holding the account back, after the last `|`
    # (engine/tick/columns.py): "…|" when none does.
    if status == "contact":
        return decisions.c.action_type.is_not(None)
    if status == "held":
        return and_(decisions.c.id.is_not(None), decisions.c.action_type.is_(None),
                    accounts.c.decision_key.not_like("%|"))
    if status == "none":
        return and_(decisions.c.id.is_not(None), decisions.c.action_type.is_(None),
                    accounts.c.decision_key.like("%|"))
    return accounts.c.decision_id.is_(None)


def search(conn, *, text: str | None = None, email: str | None = None, name: str | None = None,
           stage: str | None = None, status: str | None = None, after: str | None = None, limit: int = 50):
    """Accounts matching every filter given, by id, after the id `after`, at most `limit`, with
    their latest decision's stage, action and channel. Returns (rows, next) where `next` is the
    `after` of the following page, or None at the end.

    `text`: the id starts with it, or the debtor id or account manager is it; `email`: the
    contact's email, any case; `name`: the contact's name starts with it, any case (without `text`,
    the rows come in the name's order, then acct_no, and `after` continues after that account);
    `stage`: the latest decision's stage; `status`: one of STATUSES.
    Text, email and name are each read from an index, never by reading every account's JSON. A search
    by stage or status alone reads at most SCAN_WINDOW accounts per page (in id order) and, when
    that window ends before `limit` matches, `next` continues after it: every page is bounded.

    Rows: (id, acct_no, currency, debtor_type, debtor_id, account_manager, next_evaluation_at, stage,
    action_type, channel, evaluated_at, email, name)."""
    from arrears.engine.store.schema import decisions
    pg = conn.dialect.name == "postgresql"
    shown = (literal_column("accounts.contact::jsonb ->> 'email'") if pg
             else func.json_extract(accounts.c.contact, "$.email"))
    named = (literal_column("accounts.contact::jsonb ->> 'name'") if pg
             else func.json_extract(accounts.c.contact, "$.name"))
    cols = (accounts.c.id, accounts.c.acct_no, accounts.c.currency, accounts.c.debtor_type,
            accounts.c.debtor_id, accounts.c.account_manager, accounts.c.next_evaluation_at,
            decisions.c.stage, decisions.c.action_type, decisions.c.channel, decisions.c.evaluated_at,
            shown.label("email"), named.label("name"))
    base = select(*cols).select_from(accounts.outerjoin(decisions, decisions.c.id == accounts.c.decision_id))
    by_name = bool(name) and not text
    if after is not None and not by_name:
        base = base.where(accounts.c.id > after)
    if email:
        base = base.where(email_of(conn) == email.strip().lower())
    if name:
        base = base.where(name_starts(conn, name))
    if stage:
        base = base.where(decisions.c.stage == stage)
    if status:
        base = base.where(_status(status))
    ordered = lambda stmt: stmt.order_by(accounts.c.id).limit(limit)     # noqa: E731
    if text:
        found = {}
        for where in (and_(accounts.c.id >= text, accounts.c.id < text + "\U0010ffff"),
                      accounts.c.debtor_id == text, accounts.c.account_manager == text):
            for row in conn.execute(ordered(base.where(where))):
                found.setdefault(row.id, row)
        rows = sorted(found.values(), key=lambda r: r.id)[:limit]
        return rows, (rows[-1].id if len(rows) == limit else None)
    if by_name:
        # In the index's order (the name, then acct_no): a page is the next `limit` entries of its
        # range, however many names share the prefix; `after` continues after that account's entry.
        if after is not None:
            last = conn.execute(select(name_of(conn).label("n"), accounts.c.acct_no)
                                .where(accounts.c.id == after)).one_or_none()
            if last is not None:
                base = base.where(or_(name_of(conn) > last.n,
                                      and_(name_of(conn) == last.n, accounts.c.acct_no > last.acct_no)))
        rows = conn.execute(base.order_by(name_of(conn), accounts.c.acct_no).limit(limit)).all()
        return rows, (rows[-1].id if len(rows) == limit else None)
    if email:
        rows = conn.execute(ordered(base)).all()
        return rows, (rows[-1].id if len(rows) == limit else None)
    window = select(accounts.c.id).order_by(accounts.c.id).limit(SCAN_WINDOW)
    if after is not None:
        window = window.where(accounts.c.id > after)
    ids = window.subquery()
    last = conn.execute(select(func.max(ids.c.id), func.count()).select_from(ids)).one()
    rows = conn.execute(ordered(base.where(accounts.c.id.in_(select(ids.c.id))))).all()
    if len(rows) == limit:
        return rows, rows[-1].id
    return rows, (last[0] if last[1] == SCAN_WINDOW else None)
