"""Pages that hold whole debtors: every account of a debtor in the page of its first one.

A per-debtor rule (a `frequency_cap` with `scope: debtor`) counts the contacts of all the
accounts sharing a `debtor_id`, but the decision core sees one page at a time: a debtor
whose accounts fall in different pages would escape it. So the tick (over the due
accounts) and the simulation (over every account) complete each page with the other
accounts of its debtors, through a `DebtorCursor`, which also remembers the accounts
already taken ahead of the paging cursor, so that none is decided twice in one run.

Completing a page costs what its accounts cost, as the tick does: one query, in which
the database reads their `debtor_id`s (a range read for a dense page) and seeks each in
the `debtor_id` index to find whether that debtor has another account. A portfolio in
which no account has a `debtor_id` pays one probe of that index per run and nothing per
page. An account without a `debtor_id` (or with an empty
one) is a debtor of its own, as in `arrears.engine.store.batchload`.
"""
from __future__ import annotations

import numpy as np
from sqlalchemy import Connection, select

from arrears.engine.store.db import chunks, fetch_tuples, int_in
from arrears.engine.store.schema import accounts

IN_CHUNK = 5000          # acct_nos per IN (...) list, written into the SQL
_EMPTY = np.zeros(0, np.int64)


def any_debtor_ids(conn: Connection) -> bool:
    """True if any account has a (non-empty) debtor_id: one probe of the debtor_id index."""
    c = accounts.c
    return conn.execute(select(c.acct_no).where(c.debtor_id > "").limit(1)).first() is not None


def siblings(conn: Connection, acct_nos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(acct_nos, revisions) of the accounts, not among `acct_nos` (increasing), that share a
    debtor with one of them; by acct_no.

    The database does the work: for each of the page's accounts with a debtor_id, one
    seek in the debtor_id index tells whether its debtor has another account, and only
    the accounts of such debtors come back (none at all in the usual case).
    """
    a, b, c = accounts.c, accounts.alias("b").c, accounts.alias("c").c
    lo, hi = int(acct_nos[0]), int(acct_nos[-1])
    dense = hi - lo + 1 <= 4 * len(acct_nos)
    parts = [b.acct_no.between(lo, hi)] if dense else [int_in(b.acct_no, p.tolist())
                                                        for p in chunks(acct_nos, IN_CHUNK)]
    found: list = []
    for part in parts:
        other = select(c.acct_no).where(c.debtor_id == b.debtor_id, c.acct_no != b.acct_no).exists()
        shared = select(b.debtor_id).where(part, b.debtor_id > "", other)
        found += fetch_tuples(conn, select(a.acct_no, a.revision, a.debtor_id).where(a.debtor_id.in_(shared)))
    if not found:
        return _EMPTY, _EMPTY
    nos = np.fromiter((r[0] for r in found), dtype=np.int64, count=len(found))
    revs = np.fromiter((r[1] for r in found), dtype=np.int64, count=len(found))
    mine = np.isin(nos, acct_nos)                # a dense range also holds accounts of other pages
    ours = {r[2] for r, m in zip(found, mine.tolist()) if m}
    keep = np.fromiter((r[2] in ours for r in found), dtype=bool, count=len(found)) & ~mine
    order = np.argsort(nos[keep], kind="stable")
    return nos[keep][order], revs[keep][order]


def sibling_ids(conn: Connection, account_id: str) -> list[str]:
    """The ids of the other accounts of `account_id`'s debtor (none without a debtor_id)."""
    mine = select(accounts.c.debtor_id).where(accounts.c.id == account_id).scalar_subquery()
    stmt = (select(accounts.c.id).where(accounts.c.debtor_id == mine, accounts.c.debtor_id != "",
                                        accounts.c.id != account_id).order_by(accounts.c.acct_no))
    return list(conn.execute(stmt).scalars())


class DebtorCursor:
    """Keyset paging in acct_no order whose pages hold whole debtors.

    `complete(conn, acct_nos, revisions)` is given each page as read after the cursor
    (increasing acct_nos): it drops the accounts an earlier page took already as a
    debtor's other account, adds the other accounts of the page's debtors not taken yet,
    and moves the cursor past the page. Only accounts ahead of the cursor are remembered.
    """

    def __init__(self):
        self.after = 0
        self._ahead = _EMPTY            # taken by an earlier page, acct_no > after
        self._debtors = None            # does any account have a debtor_id? (read once)

    def complete(self, conn: Connection, acct_nos: np.ndarray, revisions: np.ndarray):
        """(acct_nos, revisions) of the whole-debtor page made from the page read after the
        cursor; may be empty when every account of it was taken before."""
        nos = np.asarray(acct_nos, dtype=np.int64)
        revs = np.asarray(revisions, dtype=np.int64)
        if not len(nos):
            return nos, revs
        self.after = int(nos[-1])
        if self._debtors is None:
            self._debtors = any_debtor_ids(conn)
        if not self._debtors:
            return nos, revs            # every account is a debtor of its own
        if len(self._ahead):
            fresh = ~np.isin(nos, self._ahead)
            nos, revs = nos[fresh], revs[fresh]
            self._ahead = self._ahead[self._ahead > self.after]
        if not len(nos):
            return nos, revs
        family, family_revs = siblings(conn, nos)
        new = ~np.isin(family, self._ahead)
        extra, extra_revs = family[new], family_revs[new]
        if not len(extra):
            return nos, revs
        self._ahead = np.union1d(self._ahead, extra[extra > self.after])
        merged = np.concatenate((nos, extra))
        order = np.argsort(merged, kind="stable")
        return (np.ascontiguousarray(merged[order]),
                np.ascontiguousarray(np.concatenate((revs, extra_revs))[order]))
