"""Named leases: a row that says who may do a job until when.

The scheduled tick holds the lease "tick" so that one process at a time evaluates and
dispatches, whatever the number of `arrears serve` processes, cron jobs and manual
`arrears tick` runs pointed at the database. A lease is taken (or renewed) with one
statement, an insert that on conflict updates the row only if it has expired or is
already held by the same holder:

    INSERT INTO leases ... ON CONFLICT (name) DO UPDATE SET holder = ..., expires_at = ...
    WHERE leases.expires_at <= :now OR leases.holder = :holder

so two processes racing for it can never both win, on SQLite or PostgreSQL. Lease times
are wall-clock seconds (fractional), independent of the instant a tick decides at.
Acting once does not depend on the lease (see docs/tick.md): it only keeps two
processes from doing the same work twice.

A job kept as a snapshot (the console's what-if) is claimed with the lease of the snapshot's
name, in the transaction that records the job (`snapshots.start_job`, `snapshots.keep_job`):
one process runs it, the others join it, and a claim its process stopped renewing is taken
over once it has expired.
"""
from __future__ import annotations

import os
import socket
import time
import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, case, select, update
from sqlalchemy.dialects import postgresql, sqlite

from arrears.engine.domain.errors import ArrearsError
from arrears.engine.store.db import connect, write_transaction
from arrears.engine.store.schema import leases


class LeaseLost(ArrearsError):
    """The lease expired and another holder took it while this one was working."""


@dataclass(frozen=True)
class LeaseState:
    """Who holds a lease and until when (epoch seconds)."""

    name: str
    holder: str
    expires_at: float
    acquired_at: float


def take(conn: Connection, name: str, holder: str, now: float, ttl: float) -> bool:
    """Take or renew lease `name` for `holder` until `now + ttl` inside the caller's write
    transaction (so what the caller writes with it commits, or not, together); True if
    `holder` has it now (it was free, expired, or already theirs)."""
    return _upsert(conn, name, holder, now, ttl) == 1


def give_up(conn: Connection, name: str, holder: str, now: float) -> bool:
    """End `holder`'s lease `name` at `now` inside the caller's transaction; True if it was theirs."""
    stmt = update(leases).where(leases.c.name == name, leases.c.holder == holder).values(expires_at=now)
    return conn.execute(stmt).rowcount == 1


def held(conn: Connection, name: str, now: float) -> LeaseState | None:
    """Lease `name` if someone holds it at `now` (None if free, expired or never taken)."""
    row = conn.execute(select(leases).where(leases.c.name == name, leases.c.expires_at > now)).one_or_none()
    return None if row is None else LeaseState(row.name, row.holder, row.expires_at, row.acquired_at)


def holder_of(conn: Connection, name: str) -> str | None:
    """Who took lease `name` last, whether or not it has expired (None if it never was)."""
    return conn.execute(select(leases.c.holder).where(leases.c.name == name)).scalar_one_or_none()


def _upsert(conn: Connection, name: str, holder: str, now: float, ttl: float):
    dialect = conn.dialect.name
    if dialect == "postgresql":
        ins = postgresql.insert(leases)
    elif dialect == "sqlite":
        ins = sqlite.insert(leases)
    else:   # pragma: no cover - only SQLite and PostgreSQL are supported
        raise ArrearsError(f"leases are not implemented for {dialect}")
    stmt = ins.values(name=name, holder=holder, expires_at=now + ttl, acquired_at=now)
    stmt = stmt.on_conflict_do_update(
        index_elements=[leases.c.name],
        set_={"holder": stmt.excluded.holder, "expires_at": stmt.excluded.expires_at,
              # keep the original acquisition time on a renewal
              "acquired_at": _keep_if_mine(holder, stmt.excluded.acquired_at)},
        where=(leases.c.expires_at <= now) | (leases.c.holder == holder))
    if dialect == "postgresql":
        # psycopg reports no rowcount for an upsert that SQLAlchemy gives a RETURNING clause
        return 1 if conn.execute(stmt.returning(leases.c.holder)).first() else 0
    return conn.execute(stmt).rowcount


def _keep_if_mine(holder: str, new):
    return case((leases.c.holder == holder, leases.c.acquired_at), else_=new)


def acquire(engine, name: str, holder: str, now: float, ttl: float) -> bool:
    """Take or renew lease `name` for `ttl` seconds from `now`; True if `holder` has it now.

    Succeeds when the lease is free, expired, or already held by `holder` (a renewal).
    One write transaction, committed before returning.
    """
    with write_transaction(engine) as conn:
        return take(conn, name, holder, now, ttl)


def release(engine, name: str, holder: str, now: float) -> bool:
    """Give the lease up at once if `holder` still has it; True if it did."""
    with write_transaction(engine) as conn:
        return give_up(conn, name, holder, now)


def state(engine, name: str) -> LeaseState | None:
    """The lease row (None if it was never taken)."""
    with connect(engine) as conn:
        row = conn.execute(select(leases).where(leases.c.name == name)).one_or_none()
    return None if row is None else LeaseState(row.name, row.holder, row.expires_at, row.acquired_at)


def default_holder() -> str:
    """A holder name unique to this process: `host:pid:random`."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Lease:
    """One holder's view of a named lease: acquire, keep alive while working, release.

    `clock` returns wall-clock epoch seconds (tests may pass their own). `keep()` renews
    when a third of the time to live has passed (so a busy loop does not write on every
    call) and raises `LeaseLost` if another holder has taken the lease meanwhile.
    """

    def __init__(self, engine, name: str = "tick", holder: str | None = None, ttl: float = 300.0,
                 clock=time.time):
        if ttl <= 0:
            raise ValueError("a lease's time to live must be positive")
        self.engine, self.name, self.ttl, self.clock = engine, name, float(ttl), clock
        self.holder = holder or default_holder()
        self.held = False
        self._renewed = 0.0

    def acquire(self) -> bool:
        """Take the lease if it is free, expired or already ours; True if we hold it now."""
        now = self.clock()
        self.held = acquire(self.engine, self.name, self.holder, now, self.ttl)
        self._renewed = now
        return self.held

    def keep(self) -> None:
        """Renew if due; raise `LeaseLost` if the lease is no longer ours."""
        now = self.clock()
        if now - self._renewed < self.ttl / 3:
            return
        if not acquire(self.engine, self.name, self.holder, now, self.ttl):
            self.held = False
            who = state(self.engine, self.name)
            raise LeaseLost(f"lease {self.name!r} was taken by {who.holder if who else 'nobody'}")
        self._renewed = now

    def release(self) -> None:
        """Give the lease up (no-op if we do not hold it)."""
        if self.held:
            release(self.engine, self.name, self.holder, self.clock())
            self.held = False

    def describe_holder(self) -> str:
        """Who holds the lease now, and until when (for "skipped" messages)."""
        who = state(self.engine, self.name)
        if who is None:
            return "nobody"
        left = who.expires_at - self.clock()
        return f"{who.holder} (expires in {max(left, 0):.0f} s)"
