"""Reading one account: the account with its bookkeeping row, and its history a page at a time.

For the API (beyond `Store`'s methods). Each function takes an open connection (a read
transaction, or the caller's write transaction when it must see its own writes). Pages use
keyset pagination: `after` is the sort key of the last row already seen.
"""
from __future__ import annotations

from sqlalchemy import and_, func, literal_column, or_, select

from arrears.engine.store import namewords
from arrears.engine.store.codec import account_from_row
from arrears.engine.store.db import chunks
from arrears.engine.store.schema import account_words, accounts, events, invoices


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


def _by_name(conn, base, probe: str, named, after: str | None, limit: int):
    """A search by name in the index's order (the matched word, then acct_no): a page is the next
    entries of the probe's range, however many names share the prefix; an account whose name has
    two words starting with the probe is listed under the first (`namewords.first_match`) only;
    `after` continues after that account's entry."""
    word, no = account_words.c.word, account_words.c.acct_no
    key = None
    if after is not None:
        last = conn.execute(select(accounts.c.acct_no, named.label("name"))
                            .where(accounts.c.id == after)).one_or_none()
        if last is not None:
            key = (namewords.first_match(last.name, probe) or "", last.acct_no)
    rows = []
    while len(rows) < limit:
        stmt = base if key is None else base.where(or_(word > key[0], and_(word == key[0], no > key[1])))
        got = conn.execute(stmt.order_by(word, no).limit(limit)).all()
        rows += [r for r in got if namewords.first_match(r.name, probe) == r.matched]
        if len(got) < limit:
            break
        key = (got[-1].matched, got[-1].acct_no)
    rows = rows[:limit]
    return rows, (rows[-1].id if len(rows) == limit else None)


def search(conn, *, text: str | None = None, email: str | None = None, name: str | None = None,
           stage: str | None = None, status: str | None = None, after: str | None = None, limit: int = 50):
    """Accounts matching every filter given, by id, after the id `after`, at most `limit`, with
    their latest decision's stage, action and channel. Returns (rows, next) where `next` is the
    `after` of the following page, or None at the end.

    `text`: the id starts with it, or the debtor id or account manager is it; `email`: the
    contact's email, any case; `name`: each word of it starts a word of the contact's name, any
    case (`namewords`; without `text`, the rows come in the index's order, by the name's word that
    the typed word read (`namewords.probe`) starts, then acct_no, and `after` continues after that
    account);
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
    joined = accounts.outerjoin(decisions, decisions.c.id == accounts.c.decision_id)
    typed = namewords.words(name)
    if name and not typed:
        return [], None                        # nothing but punctuation: no word to match
    by_name = bool(typed) and not text
    if by_name:
        probe, others = namewords.probe(conn, typed)
        base = (select(*cols, account_words.c.word.label("matched"))
                .select_from(account_words.join(joined, accounts.c.acct_no == account_words.c.acct_no))
                .where(namewords.starts(account_words.c.word, probe),
                       *(namewords.has_word(accounts.c.acct_no, w) for w in others)))
    else:
        base = select(*cols).select_from(joined).where(
            *(namewords.has_word(accounts.c.acct_no, w) for w in typed))
    if after is not None and not by_name:
        base = base.where(accounts.c.id > after)
    if email:
        base = base.where(email_of(conn) == email.strip().lower())
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
        return _by_name(conn, base, probe, named, after, limit)
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
