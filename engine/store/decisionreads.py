"""Reading the decisions the scheduled tick stored: each account's latest one (the API's
lists and work queue), and every one of a range of accounts (the KPIs' stage history).

The tick writes a `decisions` row only when an account's decision changes and points
`accounts.decision_id` at the latest (schema 0003). The row's priority, also in its JSON
summary, is the `priority` column (schema 0013): the work queue walks one channel's
decisions down the (channel, priority DESC, id DESC) index, keeps the latest ones, and
stops at the day's capacity, so it reads a few hundred rows whatever the portfolio's size.

Each latest decision comes with the name and version of the policy it was made under
(`policy_name`, `policy_version`; null when that version is not stored). Activating
another policy makes every account due (`due.make_all_due`) but leaves its latest
decision in place until the next tick decides again: readers compare `policy_digest`
with the active digest to tell such a stale decision from a current one, and the work
queue leaves stale ones out.
"""
from __future__ import annotations

import heapq

from sqlalchemy import JSON, and_, cast, exists, not_, or_, select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB

from arrears.engine.store.schema import accounts, decisions
from arrears.engine.store.schema import policy_versions as pv

SORTS = ("priority", "evaluated_at")


def _json_field(conn, name: str):
    dialect = conn.dialect.name
    if dialect == "sqlite":
        return type_coerce(decisions.c.body, JSON)[name]
    if dialect == "postgresql":
        return cast(decisions.c.body, JSONB)[name]
    return None


def _latest(columns):
    """SELECT `columns` over each account's latest decision joined with its account and
    (outer) with the policy version it was made under. The join names the account's key too,
    so a database may walk decisions (by an index) and find each one's account by its key."""
    joined = decisions.join(accounts, and_(accounts.c.acct_no == decisions.c.acct_no,
                                           accounts.c.decision_id == decisions.c.id))
    joined = joined.outerjoin(pv, pv.c.digest == decisions.c.policy_digest)
    return select(*columns).select_from(joined)


_POLICY = (pv.c.name.label("policy_name"), pv.c.version.label("policy_version"))


def any_decisions(conn) -> bool:
    """True once the tick has stored at least one decision."""
    return bool(conn.execute(select(exists().select_from(decisions))).scalar())


def sort_key(conn, sort: str):
    """(SQL expression, effective sort name) for `sort` (`priority` or `evaluated_at`)."""
    if sort == "priority":
        return decisions.c.priority, "priority"
    return decisions.c.evaluated_at, "evaluated_at"


def effective_sort(conn, sort: str) -> str:
    """The sort `decisions_page` applies for `sort` (every sort is supported: the name itself)."""
    return sort_key(conn, sort)[1]


def fresh_condition(active_digest: str | None):
    """SQL condition: the latest decision is fresh, i.e. made under the active policy
    (`active_digest`; any when None) and after the account's last change (the tick has
    evaluated the account's current revision)."""
    same = accounts.c.evaluated_revision == accounts.c.revision
    return same if active_digest is None else and_(same, decisions.c.policy_digest == active_digest)


_ACCOUNT_STATE = (accounts.c.revision.label("account_revision"),
                  accounts.c.evaluated_revision.label("account_evaluated_revision"),
                  accounts.c.changed_at.label("account_changed_at"))


def decisions_page(conn, *, filters: dict, sort: str, after: list | None, limit: int,
                   stale: bool | None = None, active_digest: str | None = None):
    """Latest decisions matching `filters` (stage, action, channel, account_id, bucket),
    highest `sort` key first (ties: newest id first), after the keyset `after`; with
    `stale`, only the stale (True) or fresh (False) ones (`fresh_condition`). Each row
    carries its account's revision, evaluated revision and `changed_at` (account_…).

    Returns (rows, [key, id] of the last row if the page is full, else None).
    """
    key, _ = sort_key(conn, sort)
    stmt = _latest([decisions, accounts.c.id.label("account_id"), key.label("sort_key"), *_POLICY,
                    *_ACCOUNT_STATE])
    if stale is not None:
        fresh = fresh_condition(active_digest)
        stmt = stmt.where(not_(fresh) if stale else fresh)
    column = {"stage": decisions.c.stage, "action": decisions.c.action_type,
              "channel": decisions.c.channel, "account_id": accounts.c.id}
    for name, value in filters.items():
        if value is None:
            continue
        if name == "bucket":
            field = _json_field(conn, "bucket")
            if field is not None:
                stmt = stmt.where(field.as_string() == value)
        else:
            stmt = stmt.where(column[name] == value)
    if after is not None:
        last_key, last_id = after
        stmt = stmt.where(or_(key < last_key, and_(key == last_key, decisions.c.id < last_id)))
    rows = conn.execute(stmt.order_by(key.desc(), decisions.c.id.desc()).limit(limit)).all()
    nxt = [rows[-1].sort_key, rows[-1].id] if len(rows) == limit else None
    return rows, nxt


def due_contacts(conn, channels: list[str], before: int, limit: int, policy_digest: str,
                 assigning: tuple = (), assignee: str | None = None, unassigned: bool = False) -> list:
    """Latest decisions with a contact on one of `channels` due before epoch `before`,
    made under the policy `policy_digest` (the active one: a decision made under another
    is stale until the next tick), for accounts evaluated since their last change,
    highest priority first (ties: the newest decision first), at most `limit`, each with its
    account's `account_manager` (and its priority as `sort_key`).

    `assigning`: the stages the policy assigns to the account manager. With `assignee`, only
    the contacts of those stages on accounts `assignee` manages; with `unassigned`, only the
    others (the general queue).

    One query per channel, each read down the (channel, priority DESC, id DESC) index and cut
    at `limit`, merged here: a list of channels in one query would have the database sort
    every one of their decisions."""
    manager = accounts.c.account_manager
    stmt = (_latest([decisions, accounts.c.id.label("account_id"), decisions.c.priority.label("sort_key"),
                     manager.label("account_manager")])
            .where(decisions.c.not_before.is_not(None), decisions.c.not_before < before,
                   accounts.c.evaluated_revision == accounts.c.revision,
                   decisions.c.policy_digest == policy_digest))
    if assignee is not None:
        stmt = stmt.where(decisions.c.stage.in_(list(assigning)), manager == assignee)
    if unassigned and assigning:
        stmt = stmt.where(or_(decisions.c.stage.not_in(list(assigning)), manager.is_(None), manager == ""))
    stmt = stmt.order_by(decisions.c.priority.desc(), decisions.c.id.desc()).limit(limit)
    parts = [conn.execute(stmt.where(decisions.c.channel == name)).all() for name in dict.fromkeys(channels)]
    if len(parts) == 1:
        return parts[0]
    return list(heapq.merge(*parts, key=lambda r: (-r.priority, -r.id)))[:limit]


def stage_rows(conn, first: int, last: int) -> list:
    """(acct_no, evaluated_at, stage, strategy) of every stored decision of the accounts
    `first`..`last` (acct_nos, inclusive), by account, then oldest first."""
    stmt = (select(decisions.c.acct_no, decisions.c.evaluated_at, decisions.c.stage, decisions.c.strategy)
            .where(decisions.c.acct_no.between(int(first), int(last)))
            .order_by(decisions.c.acct_no, decisions.c.evaluated_at, decisions.c.id))
    return conn.execute(stmt).all()


def stage_rows_of(conn, acct_nos) -> list:
    """`stage_rows` of the accounts `acct_nos` (increasing, any spread), in the same order."""
    out = []
    nos = [int(n) for n in acct_nos]
    for i in range(0, len(nos), 5000):
        part = nos[i:i + 5000]
        stmt = (select(decisions.c.acct_no, decisions.c.evaluated_at, decisions.c.stage, decisions.c.strategy)
                .where(decisions.c.acct_no.in_(part))
                .order_by(decisions.c.acct_no, decisions.c.evaluated_at, decisions.c.id))
        out += conn.execute(stmt).all()
    return out
