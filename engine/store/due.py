"""Which accounts are due for evaluation, and recording that they were evaluated.

An account is due when `next_evaluation_at` is NULL (new, or changed since it was
last evaluated: every change sets it to NULL) or not after `now`. `due_accounts`
first turns "not after now" into NULL (an index range over the newly due only),
then pages through the NULLs in acct_no order, which the index on
(next_evaluation_at, acct_no, revision) serves directly. The tick's pages hold whole
debtors (`arrears.engine.store.debtors`): a due account's other accounts are decided
in its page, so per-debtor caps see all of them. So a tick costs what the
due accounts cost, not what the portfolio costs: no page scans the accounts table,
and a page never re-sorts the whole due set.

`revision` counts changes. A tick reads it with the due page and hands it back to
`mark_evaluated`, which only writes where the revision is unchanged: an event that
arrives while the account is being decided keeps it due for the next tick instead
of being overwritten by a stale `next_evaluation_at`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import Connection, and_, bindparam, func, or_, select, update

from arrears.engine.store.db import fetch_tuples
from arrears.engine.store.debtors import DebtorCursor
from arrears.engine.store.schema import accounts


@dataclass(frozen=True)
class DuePage:
    """One page of due accounts, in increasing acct_no, with the revision each was due at.

    A page read with a `DebtorCursor` holds whole debtors: it may include accounts that are
    not due (another account of a due account's debtor) and may be empty while more pages
    follow; `done` says the due accounts are exhausted.
    """

    acct_nos: np.ndarray     # int64, strictly increasing
    revisions: np.ndarray    # int64
    done: bool = False       # nothing was due after the cursor: the last page

    def __len__(self) -> int:
        return len(self.acct_nos)

    @property
    def last(self) -> int | None:
        """The acct_no to pass as `after_acct_no` for the next page (None when empty)."""
        return int(self.acct_nos[-1]) if len(self.acct_nos) else None


def due_condition(now: int):
    """SQL condition: the account is due at epoch second `now`."""
    nea = accounts.c.next_evaluation_at
    return or_(nea.is_(None), nea <= now)


def due_count(conn: Connection, now: int) -> int:
    """How many accounts are due at `now` (for progress reports and sizing a tick)."""
    return conn.execute(select(func.count()).select_from(accounts).where(due_condition(now))).scalar()


def make_due(conn: Connection, acct_no: int) -> None:
    """Make one account due now (e.g. its queued contact was cancelled: decide it again on
    the next tick rather than at its scheduled time)."""
    conn.execute(update(accounts).where(accounts.c.acct_no == acct_no).values(next_evaluation_at=None))


def make_all_due(conn: Connection) -> int:
    """Make every account due at the next tick and forget its stored decision key (a policy
    was activated: every decision must be made again, under it). Returns the rows changed.

    One UPDATE, whatever the portfolio's size. Forgetting the key makes the next tick
    write a `decisions` row for every account even where the new policy decides the
    same step, so each account's latest decision names the policy now active; until
    then it names the one it was made under (see `decisionreads`).
    """
    nea, key = accounts.c.next_evaluation_at, accounts.c.decision_key
    return conn.execute(update(accounts).where(or_(nea.is_not(None), key.is_not(None)))
                        .values(next_evaluation_at=None, decision_key=None)).rowcount


def promote_due(conn: Connection, now: int) -> None:
    """Mark accounts whose evaluation time has come (`next_evaluation_at <= now`) as due now (NULL)."""
    nea = accounts.c.next_evaluation_at
    conn.execute(update(accounts).where(nea <= now).values(next_evaluation_at=None))


def due_accounts(conn: Connection, now: int, limit: int, after_acct_no: int = 0,
                 debtors: DebtorCursor | None = None) -> DuePage:
    """Up to `limit` accounts due at `now` with acct_no greater than `after_acct_no`.

    With `debtors` (the tick's), the page starts after that cursor instead and holds whole
    debtors: the due accounts' other accounts are added, and accounts an earlier page took
    that way are left out (`arrears.engine.store.debtors`). Writes (see `promote_due`): run
    it in a write transaction.
    """
    promote_due(conn, now)
    after = after_acct_no if debtors is None else debtors.after
    stmt = (select(accounts.c.acct_no, accounts.c.revision)
            .where(accounts.c.next_evaluation_at.is_(None), accounts.c.acct_no > after)
            .order_by(accounts.c.acct_no).limit(limit))
    rows = np.asarray(fetch_tuples(conn, stmt), dtype=np.int64).reshape(-1, 2)
    nos, revs = np.ascontiguousarray(rows[:, 0]), np.ascontiguousarray(rows[:, 1])
    if debtors is not None:
        return DuePage(*debtors.complete(conn, nos, revs), done=not len(nos))
    return DuePage(nos, revs, done=not len(nos))


def mark_evaluated(conn: Connection, acct_nos, revisions, next_evaluation_at, evaluated_at: int) -> int:
    """Record an evaluation at `evaluated_at`: set `next_evaluation_at` (epoch s, or None
    for "again next tick") where the account's revision is still the one evaluated.

    Returns how many accounts were updated; the others changed meanwhile and stay due.
    """
    params = [{"b_acct_no": int(a), "b_revision": int(r),
               "next_evaluation_at": None if n is None else int(n),
               "evaluated_revision": int(r), "last_evaluated_at": int(evaluated_at)}
              for a, r, n in zip(acct_nos, revisions, next_evaluation_at)]
    if not params:
        return 0
    stmt = update(accounts).where(and_(accounts.c.acct_no == bindparam("b_acct_no"),
                                       accounts.c.revision == bindparam("b_revision")))
    return conn.execute(stmt, params).rowcount
