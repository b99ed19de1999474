"""Tick runs: one `tick_runs` row per tick, from request to end, whoever started it.

A run is `pending` (accepted by the API, not started yet), then `running`, then one of:

| status | meaning |
|---|---|
| `succeeded` | the tick held the lease and ran to the end |
| `skipped` | nothing was done: another process held the lease (or a stop came first) |
| `stopped` | it did part of its work, then stopped early (shutdown, or the lease was lost) |
| `failed` | it raised an error (`error` says which), or its process died (`abandoned`) |

Times are wall-clock epoch seconds; `at` is the instant the tick decides at. A row is
written in its own short transaction at each step, so it says what is happening while
the tick runs. A process that dies mid-run leaves its row `running`: the next run marks
it failed once its lease has expired (`abandon_stale`).
"""
from __future__ import annotations

from sqlalchemy import Connection, insert, select, update

from arrears.engine.store import tickpages
from arrears.engine.store.codec import canonical
from arrears.engine.store.db import read_transaction, write_transaction
from arrears.engine.store.schema import leases, tick_runs

# delivery: `arrears serve` sending contacts queued for a time between its ticks
TRIGGERS = ("scheduled", "cli", "api", "delivery", "console")   # console: an outcome recorded in the work queue
STATUSES = ("pending", "running", "succeeded", "skipped", "stopped", "failed")
UNFINISHED = ("pending", "running")
MAX_ERROR = 2000          # characters of an error kept
ABANDONED = "abandoned: the process running this tick stopped before it finished"


def status_of(summary) -> str:
    """The final status of a run from its `TickSummary`."""
    if getattr(summary, "refused", None):
        return "failed"
    if summary.ran:
        return "succeeded"
    return "stopped" if (summary.evaluated or summary.delivered) else "skipped"


def create(engine, *, trigger: str, at: int, holder: str, dispatch: bool, now: int,
           status: str = "running") -> int:
    """Record a new run (`pending` or `running`); returns its id."""
    if trigger not in TRIGGERS or status not in UNFINISHED:
        raise ValueError(f"bad trigger {trigger!r} or initial status {status!r}")
    values = {"trigger": trigger, "status": status, "at": int(at), "requested_at": int(now),
              "started_at": int(now) if status == "running" else None, "finished_at": None,
              "holder": holder, "dispatch": bool(dispatch), "summary": None, "error": None}
    with write_transaction(engine) as conn:
        return conn.execute(insert(tick_runs).values(**values)).inserted_primary_key[0]


def start(engine, run_id: int, now: int) -> None:
    """Mark a pending run `running`."""
    with write_transaction(engine) as conn:
        conn.execute(update(tick_runs).where(tick_runs.c.id == run_id, tick_runs.c.status == "pending")
                     .values(status="running", started_at=int(now)))


def finish(engine, run_id: int, status: str, now: int, *, summary: dict | None = None,
           error: str | None = None) -> None:
    """Record how a run ended: its status, the summary (JSON) and the error text, if any."""
    if status in UNFINISHED or status not in STATUSES:
        raise ValueError(f"{status!r} is not a final status")
    with write_transaction(engine) as conn:
        conn.execute(update(tick_runs).where(tick_runs.c.id == run_id).values(
            status=status, finished_at=int(now), summary=None if summary is None else canonical(summary),
            error=None if error is None else error[:MAX_ERROR]))


def abandon_stale(engine, now: float, ttl: float) -> int:
    """Mark failed the unfinished runs of dead processes, and stop the pages they left queued
    (`tickpages.abandon`); returns how many runs.

    A run counts as dead when it was requested more than `ttl` seconds ago (a live tick
    renews its lease at least every third of that) and its holder does not hold the
    live `tick` lease now.
    """
    live = select(leases.c.holder).where(leases.c.name == "tick", leases.c.expires_at > now)
    runs = tick_runs.c
    dead = select(runs.id).where(runs.status.in_(UNFINISHED), runs.requested_at < int(now - ttl),
                                 runs.holder.not_in(live))
    with write_transaction(engine) as conn:
        ids = list(conn.execute(dead).scalars())
        if ids:
            conn.execute(update(tick_runs).where(runs.id.in_(ids))
                         .values(status="failed", finished_at=int(now), error=ABANDONED))
            tickpages.abandon(conn, ids, now)      # a distributed run's pages still queued: stopped
        return len(ids)


def get(conn: Connection, run_id: int):
    """The `tick_runs` row with this id, or None."""
    return conn.execute(select(tick_runs).where(tick_runs.c.id == run_id)).one_or_none()


def page(conn: Connection, *, after: int | None, limit: int, status: str | None = None,
         trigger: str | None = None) -> list:
    """Runs newest first (by id), after the id `after`, optionally of one status and trigger."""
    stmt = select(tick_runs)
    if after is not None:
        stmt = stmt.where(tick_runs.c.id < after)
    if status is not None:
        stmt = stmt.where(tick_runs.c.status == status)
    if trigger is not None:
        stmt = stmt.where(tick_runs.c.trigger == trigger)
    return conn.execute(stmt.order_by(tick_runs.c.id.desc()).limit(limit)).all()


def running_under(engine, holder: str):
    """The newest unfinished run using lease holder `holder`, or None."""
    with read_transaction(engine) as conn:
        return conn.execute(select(tick_runs).where(tick_runs.c.holder == holder,
                                                    tick_runs.c.status.in_(UNFINISHED))
                            .order_by(tick_runs.c.id.desc()).limit(1)).one_or_none()
