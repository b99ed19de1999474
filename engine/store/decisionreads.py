"""Reading the decisions the scheduled tick stored: each account's latest one (the API's
lists and work queue), and every one of a range of accounts (the KPIs' stage history).

The tick writes a `decisions` row only when an account's decision changes and points
`accounts.decision_id` at the latest (schema 0003); on an older schema the latest row
per account is found by `max(id)`. The priority lives in the row's JSON summary, so
sorting by it uses the database's JSON functions (SQLite and PostgreSQL); elsewhere
lists fall back to `evaluated_at` order.

Each latest decision comes with the name and version of the policy it was made under
(`policy_name`, `policy_version`; null when that version is not stored). Activating
another policy makes every account due (`due.make_all_due`) but leaves its latest
decision in place until the next tick decides again: readers compare `policy_digest`
with the active digest to tell such a stale decision from a current one, and the work
queue leaves stale ones out.
"""
from __future__ import annotations

from sqlalchemy import JSON, and_, cast, exists, func, not_, or_, select, type_coerce
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


def priority_of(conn):
    """SQL expression of a decision's priority (-1 when absent), or None if unsupported."""
    field = _json_field(conn, "priority")
    return None if field is None else func.coalesce(field.as_float(), -1.0)


def _latest(columns):
    """SELECT `columns` over each account's latest decision joined with its account and
    (outer) with the policy version it was made under."""
    if "decision_id" in accounts.c:
        joined = decisions.join(accounts, accounts.c.decision_id == decisions.c.id)
    else:
        latest = select(func.max(decisions.c.id).label("id")).group_by(decisions.c.acct_no).subquery()
        joined = (decisions.join(latest, latest.c.id == decisions.c.id)
                  .join(accounts, accounts.c.acct_no == decisions.c.acct_no))
    joined = joined.outerjoin(pv, pv.c.digest == decisions.c.policy_digest)
    return select(*columns).select_from(joined)


_POLICY = (pv.c.name.label("policy_name"), pv.c.version.label("policy_version"))


def any_decisions(conn) -> bool:
    """True once the tick has stored at least one decision."""
    return bool(conn.execute(select(exists().select_from(decisions))).scalar())


def sort_key(conn, sort: str):
    """(SQL expression, effective sort name) for `sort`; priority falls back to evaluated_at."""
    if sort == "priority":
        expr = priority_of(conn)
        if expr is not None:
            return expr, "priority"
    return decisions.c.evaluated_at, "evaluated_at"


def effective_sort(conn, sort: str) -> str:
    """The sort `decisions_page` applies for `sort` on this database (priority needs JSON
    functions; without them it falls back to evaluated_at)."""
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
    highest priority first, each with its account's `account_manager`.

    `assigning`: the stages the policy assigns to the account manager. With `assignee`, only
    the contacts of those stages on accounts `assignee` manages; with `unassigned`, only the
    others (the general queue)."""
    key, _ = sort_key(conn, "priority")
    manager = accounts.c.account_manager
    stmt = (_latest([decisions, accounts.c.id.label("account_id"), key.label("sort_key"),
                     manager.label("account_manager")])
            .where(decisions.c.channel.in_(channels), decisions.c.not_before.is_not(None),
                   decisions.c.not_before < before, accounts.c.evaluated_revision == accounts.c.revision,
                   decisions.c.policy_digest == policy_digest))
    if assignee is not None:
        stmt = stmt.where(decisions.c.stage.in_(list(assigning)), manager == assignee)
    if unassigned and assigning:
        stmt = stmt.where(or_(decisions.c.stage.not_in(list(assigning)), manager.is_(None), manager == ""))
    return conn.execute(stmt.order_by(key.desc(), decisions.c.id.desc()).limit(limit)).all()


def stage_rows(conn, first: int, last: int) -> list:
    """(acct_no, evaluated_at, stage) of every stored decision of the accounts `first`..`last`
    (acct_nos, inclusive), by account, then oldest first."""
    stmt = (select(decisions.c.acct_no, decisions.c.evaluated_at, decisions.c.stage)
            .where(decisions.c.acct_no.between(int(first), int(last)))
            .order_by(decisions.c.acct_no, decisions.c.evaluated_at, decisions.c.id))
    return conn.execute(stmt).all()


def stage_rows_of(conn, acct_nos) -> list:
    """`stage_rows` of the accounts `acct_nos` (increasing, any spread), in the same order."""
    out = []
    nos = [int(n) for n in acct_nos]
    for i in range(0, len(nos), 5000):
        part = nos[i:i + 5000]
        stmt = (select(decisions.c.acct_no, decisions.c.evaluated_at, decisions.c.stage)
                .where(decisions.c.acct_no.in_(part))
                .order_by(decisions.c.acct_no, decisions.c.evaluated_at, decisions.c.id))
        out += conn.execute(stmt).all()
    return out
