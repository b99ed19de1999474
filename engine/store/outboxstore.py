"""Outbox state changes for dispatch: claim, finish, give up on rows a crash left behind.

Statuses: `pending` (waiting for `next_attempt_at`), `sending` (claimed: a channel may be
delivering it right now), `sent`, `failed`, `cancelled` (a re-check found it no longer
wanted), `unknown` (claimed by a run that died: it may or may not have gone out).

A row is claimed (pending -> sending) in its own committed transaction *before* the
channel is called, and the claim is conditional on the row still being pending, so two
dispatchers can never both deliver it. Nothing ever moves a row from `sending` or
`unknown` back to `pending`: delivery is at most once.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, and_, func, or_, select, update

from arrears.engine.store.schema import accounts, events, outbox

FINAL = ("sent", "failed", "cancelled")


@dataclass(frozen=True)
class OutboxRow:
    """A pending outbox row with its account's external id."""

    id: int
    acct_no: int
    account_id: str
    stage: str
    attempt: int
    episode_key: str
    channel: str
    tries: int
    next_attempt_at: int
    payload: str


def due_rows(conn: Connection, now: int, after_id: int, limit: int) -> list[OutboxRow]:
    """Pending rows whose time has come, in id order after `after_id`."""
    o = outbox.c
    stmt = (select(o.id, o.acct_no, accounts.c.id, o.stage, o.attempt, o.episode_key, o.channel,
                   o.tries, o.next_attempt_at, o.payload)
            .join(accounts, accounts.c.acct_no == o.acct_no)
            .where(o.status == "pending", o.next_attempt_at <= now, o.id > after_id)
            .order_by(o.id).limit(limit))
    return [OutboxRow(*row) for row in conn.execute(stmt)]


def claim_next(conn: Connection, ids: list[int], token: str, now: int) -> OutboxRow | None:
    """Claim (pending -> sending, for `token`) the first of the rows `ids` that is pending and
    due at `now`, and return it; None when none is left. For the distributed tick's delivery
    workers: on PostgreSQL the row is chosen `FOR UPDATE SKIP LOCKED`, so workers claiming
    from overlapping lists never wait on each other's row and never both take one; on SQLite
    (one writer) the write transaction alone does that. Call it in a write transaction."""
    o = outbox.c
    pick = (select(o.id).where(o.id.in_([int(i) for i in ids]), o.status == "pending", o.next_attempt_at <= now)
            .order_by(o.id).limit(1))
    if conn.dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    row_id = conn.execute(pick).scalar()
    if row_id is None or not claim(conn, row_id, token, now):
        return None
    row = conn.execute(select(o.id, o.acct_no, accounts.c.id, o.stage, o.attempt, o.episode_key, o.channel,
                              o.tries, o.next_attempt_at, o.payload)
                       .join(accounts, accounts.c.acct_no == o.acct_no).where(o.id == row_id)).one()
    return OutboxRow(*row)


def due_debtors(conn: Connection, now: int) -> list[tuple[int, int, str]]:
    """(id, acct_no, debtor) of every pending row due at `now`, by id; the debtor is the
    account's debtor_id, or `#acct_no` for an account without one (a debtor of its own)."""
    o, a = outbox.c, accounts.c
    stmt = (select(o.id, o.acct_no, a.debtor_id).join(accounts, a.acct_no == o.acct_no)
            .where(o.status == "pending", o.next_attempt_at <= now).order_by(o.id))
    return [(rid, acct, debtor or f"#{acct}") for rid, acct, debtor in conn.execute(stmt)]


def due_count(conn: Connection, now: int) -> int:
    """How many pending rows are due at `now` (for progress reports)."""
    return conn.execute(select(func.count()).select_from(outbox).where(
        outbox.c.status == "pending", outbox.c.next_attempt_at <= now)).scalar()


def claim(conn: Connection, row_id: int, token: str, now: int) -> bool:
    """pending -> sending for `token`; False if someone else changed the row first."""
    stmt = (update(outbox).where(outbox.c.id == row_id, outbox.c.status == "pending")
            .values(status="sending", claimed_by=token, claimed_at=now, updated_at=now))
    return conn.execute(stmt).rowcount == 1


def finish(conn: Connection, row_id: int, token: str, now: int, **values) -> bool:
    """Record the outcome of `token`'s delivery attempt (`values`: status, tries,
    next_attempt_at, provider_id, last_error, payload).

    Also accepted when the row was meanwhile marked `unknown` (this run outlived its
    lease): the run knows what happened, so the truth replaces the guess.
    """
    stmt = (update(outbox)
            .where(outbox.c.id == row_id, outbox.c.claimed_by == token,
                   outbox.c.status.in_(("sending", "unknown")))
            .values(updated_at=now, **values))
    return conn.execute(stmt).rowcount == 1


def contact_event_key(conn: Connection, acct_no: int, row_id: int) -> str:
    """The event key for the next contact outcome of row `row_id`: `outbox:ID` for its
    first, `outbox:ID/N` for the N-th.

    A row lives more than once: a contact that failed on one channel is revived on the
    fallback channel (or after a cancel), under the same act-once key. Each outcome is a
    contact of its own in the history, so each needs a key of its own; reusing `outbox:ID`
    would drop the delivered contact as a duplicate of the failed one. Call it in the
    transaction that records the outcome, after `finish` succeeded.
    """
    base = f"outbox:{row_id}"
    e = events.c
    n = conn.execute(select(func.count()).select_from(events).where(
        e.acct_no == acct_no, or_(e.event_key == base, e.event_key.like(base + "/%")))).scalar()
    return base if n == 0 else f"{base}/{n + 1}"


def release(conn: Connection, row_id: int, token: str, now: int, next_attempt_at: int,
            note: str | None = None) -> bool:
    """sending -> pending without an attempt (the re-check said "not yet")."""
    return finish(conn, row_id, token, now, status="pending", next_attempt_at=next_attempt_at,
                  claimed_by=None, claimed_at=None, last_error=note)


def abandon_orphans(conn: Connection, token: str, now: int) -> list[tuple[int, str, str, str]]:
    """Mark `sending` rows claimed by any other run `unknown`; returns (id, account id,
    stage, claimed_by) of each. Call it only while holding the tick lease: then no other
    run is alive to finish them (and if one is, `finish` still records its outcome)."""
    o = outbox.c
    cond = and_(o.status == "sending", o.claimed_by.is_distinct_from(token))
    rows = conn.execute(select(o.id, accounts.c.id, o.stage, o.claimed_by)
                        .join(accounts, accounts.c.acct_no == o.acct_no).where(cond)).all()
    if rows:
        conn.execute(update(outbox).where(o.id.in_([r[0] for r in rows]), o.status == "sending")
                     .values(status="unknown", updated_at=now,
                             last_error="the dispatching process stopped while this contact was "
                                        "being delivered: it may or may not have gone out"))
    return [tuple(r) for r in rows]


def unknown_rows(conn: Connection) -> list[tuple]:
    """Every `unknown` row, oldest first: (id, account id, stage, attempt, episode_key,
    channel, claimed_at, claimed_by, last_error)."""
    o = outbox.c
    stmt = (select(o.id, accounts.c.id, o.stage, o.attempt, o.episode_key, o.channel, o.claimed_at,
                   o.claimed_by, o.last_error)
            .join(accounts, accounts.c.acct_no == o.acct_no).where(o.status == "unknown").order_by(o.id))
    return [tuple(row) for row in conn.execute(stmt)]


def settling(conn: Connection, row_id: int):
    """What settling row `row_id` by hand needs (status, stage, attempt, channel, claimed_at,
    decision_id, acct_no, and `id`: the account's id), or None if there is no such row."""
    o = outbox.c
    return conn.execute(select(o.status, o.stage, o.attempt, o.channel, o.claimed_at, o.decision_id,
                               o.acct_no, accounts.c.id)
                        .join(accounts, accounts.c.acct_no == o.acct_no)
                        .where(o.id == row_id)).one_or_none()


def settle_unknown(conn: Connection, row_id: int, **values) -> bool:
    """Set `values` (status, updated_at, last_error, provider_id) on row `row_id` if it is
    still `unknown`; False if it is not (it was settled meanwhile)."""
    stmt = update(outbox).where(outbox.c.id == row_id, outbox.c.status == "unknown").values(**values)
    return conn.execute(stmt).rowcount == 1


def get(conn: Connection, row_id: int):
    """One outbox row (None if absent)."""
    return conn.execute(select(outbox).where(outbox.c.id == row_id)).one_or_none()


def status_counts(conn: Connection) -> dict[str, int]:
    """Rows per status."""
    stmt = select(outbox.c.status, func.count()).group_by(outbox.c.status)
    return {status: n for status, n in conn.execute(stmt)}


def next_pending_after(conn: Connection, now: int) -> int | None:
    """The earliest `next_attempt_at` of a pending row that is not due yet at `now` (epoch s),
    or None: when a delivery run between ticks has something to send."""
    o = outbox.c
    return conn.execute(select(func.min(o.next_attempt_at))
                        .where(o.status == "pending", o.next_attempt_at > now)).scalar()


def listing(conn: Connection) -> list[dict]:
    """Every outbox row, oldest first, as dicts (id, account_id, stage, attempt, episode,
    channel, status, tries, next_attempt_at, provider_id, last_error): for test benches."""
    o = outbox.c
    stmt = (select(o.id, accounts.c.id.label("account_id"), o.stage, o.attempt,
                   o.episode_key.label("episode"), o.channel, o.status, o.tries, o.next_attempt_at,
                   o.provider_id, o.last_error)
            .join(accounts, accounts.c.acct_no == o.acct_no).order_by(o.id))
    return [dict(row._mapping) for row in conn.execute(stmt)]


def by_provider_id(conn: Connection, provider_id: str) -> list[tuple]:
    """The delivered rows the provider knows as `provider_id`: (id, acct_no, account id,
    stage, channel, payload) of each `sent` row, oldest first (a receipt finds its contact)."""
    o = outbox.c
    stmt = (select(o.id, o.acct_no, accounts.c.id, o.stage, o.channel, o.payload)
            .join(accounts, accounts.c.acct_no == o.acct_no)
            .where(o.provider_id == provider_id, o.status == "sent").order_by(o.id))
    return [tuple(row) for row in conn.execute(stmt)]
