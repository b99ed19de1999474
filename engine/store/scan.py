"""Every stored account, a page at a time in acct_no order, whatever is due.

For the read-only use cases that look at the whole portfolio: the simulation, the KPIs,
the work queue computed before any tick has run. (The tick pages over the due accounts
only: `arrears.engine.store.due`.) Each function runs inside the caller's transaction.
"""
from __future__ import annotations

from sqlalchemy import Connection, func, select

from arrears.engine.store.schema import accounts


def count_accounts(conn: Connection) -> int:
    """How many accounts are stored."""
    return conn.execute(select(func.count()).select_from(accounts)).scalar_one()


def acct_nos_after(conn: Connection, after: int, limit: int) -> list[int]:
    """Up to `limit` stored acct_nos greater than `after`, increasing (the next page's keys)."""
    return conn.execute(select(accounts.c.acct_no).where(accounts.c.acct_no > after)
                        .order_by(accounts.c.acct_no).limit(limit)).scalars().all()
