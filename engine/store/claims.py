"""Claims on accounts of the console's work queue: one agent per account at a time.

`claim` runs in a write transaction (SQLite's write lock; on PostgreSQL the audit head's row
lock, taken by `Store.transaction`), so two agents claiming the same account at once get one
claim between them. A claim ends when it is released (an outcome recorded, or given up) or
expires. Claiming and releasing are audited (`claim.taken`, `claim.released`) with the agent.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select, update

from arrears.engine.store import audit
from arrears.engine.store.schema import accounts, claims


@dataclass(frozen=True)
class Claim:
    """Who holds an account, since when, until when."""

    account_id: str
    username: str
    claimed_at: int
    expires_at: int


def claim(conn: Connection, account_id: str, username: str, now: int, ttl: int) -> Claim | None:
    """Give `account_id` to `username` until `now + ttl` (renewing their own live claim); None
    when another agent's claim is live, or there is no such account."""
    acct_no = conn.execute(select(accounts.c.acct_no).where(accounts.c.id == account_id)).scalar_one_or_none()
    if acct_no is None:
        return None
    held = conn.execute(select(claims).where(claims.c.acct_no == acct_no)).one_or_none()
    if held is not None and held.username != username and held.expires_at > now:
        return None
    values = {"username": username, "claimed_at": now, "expires_at": now + ttl}
    if held is None:
        conn.execute(insert(claims), {"acct_no": acct_no, **values})
    else:
        conn.execute(update(claims).where(claims.c.acct_no == acct_no).values(**values))
    audit.append(conn, "claim.taken", account_id, {"by": username, "until": now + ttl}, now)
    return Claim(account_id, username, now, now + ttl)


def release(conn: Connection, account_id: str, username: str, now: int, why: str) -> bool:
    """End `username`'s claim on `account_id` (False if they hold none)."""
    acct_no = conn.execute(select(accounts.c.acct_no).where(accounts.c.id == account_id)).scalar_one_or_none()
    if acct_no is None:
        return False
    done = conn.execute(delete(claims).where(claims.c.acct_no == acct_no, claims.c.username == username)).rowcount
    if done:
        audit.append(conn, "claim.released", account_id, {"by": username, "why": why}, now)
    return bool(done)


def holders(conn: Connection, account_ids, now: int) -> dict[str, Claim]:
    """The live claims on `account_ids`, by account id."""
    ids = list(account_ids)
    if not ids:
        return {}
    rows = conn.execute(select(accounts.c.id, claims.c.username, claims.c.claimed_at, claims.c.expires_at)
                        .join(claims, claims.c.acct_no == accounts.c.acct_no)
                        .where(accounts.c.id.in_(ids), claims.c.expires_at > now)).all()
    return {r.id: Claim(r.id, r.username, r.claimed_at, r.expires_at) for r in rows}


def held_by(conn: Connection, username: str, now: int) -> list[Claim]:
    """`username`'s live claims, oldest first."""
    rows = conn.execute(select(accounts.c.id, claims.c.username, claims.c.claimed_at, claims.c.expires_at)
                        .join(claims, claims.c.acct_no == accounts.c.acct_no)
                        .where(claims.c.username == username, claims.c.expires_at > now)
                        .order_by(claims.c.claimed_at)).all()
    return [Claim(r.id, r.username, r.claimed_at, r.expires_at) for r in rows]
