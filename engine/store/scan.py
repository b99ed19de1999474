"""Every stored account, a page at a time in acct_no order, whatever is due.

For the read-only use cases that look at the whole portfolio: the simulation, the KPIs,
the work queue computed before any tick has run; and what changed since a previous read (the
dashboard's ledger, kept between refreshes: `revisions`, `decided_after`). (The tick pages over the due accounts
only: `arrears.engine.store.due`.) Each function runs inside the caller's transaction.
"""
from __future__ import annotations

from sqlalchemy import Connection, func, select

from arrears.engine.store.db import fetch_sql

from arrears.engine.store.schema import accounts, decisions


def count_accounts(conn: Connection) -> int:
    """How many accounts are stored."""
    return conn.execute(select(func.count()).select_from(accounts)).scalar_one()


def acct_nos_after(conn: Connection, after: int, limit: int) -> list[int]:
    """Up to `limit` stored acct_nos greater than `after`, increasing (the next page's keys)."""
    return conn.execute(select(accounts.c.acct_no).where(accounts.c.acct_no > after)
                        .order_by(accounts.c.acct_no).limit(limit)).scalars().all()


def revisions(conn: Connection) -> list[tuple[int, int]]:
    """(acct_no, revision) of every stored account, by acct_no: a revision goes up whenever the
    account or its history changes, so two reads tell which accounts changed in between."""
    sql = str(select(accounts.c.acct_no, accounts.c.revision).order_by(accounts.c.acct_no)
              .compile(dialect=conn.dialect))
    return fetch_sql(conn, sql)


def last_decision_id(conn: Connection) -> int:
    """The id of the newest stored decision (0 if none)."""
    return int(conn.execute(select(func.coalesce(func.max(decisions.c.id), 0))).scalar_one())


def decided_after(conn: Connection, after_id: int) -> list[int]:
    """The acct_nos that have a stored decision newer than `after_id`, increasing."""
    return conn.execute(select(decisions.c.acct_no).where(decisions.c.id > int(after_id)).distinct()
                        .order_by(decisions.c.acct_no)).scalars().all()
