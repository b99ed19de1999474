"""Snapshots: figures computed after the ticks (the console's dashboard), one row per name.

`put` replaces a snapshot whole in the caller's transaction; `get` reads one. Not audited:
a snapshot is derived from audited data and can be computed again at any time.

A snapshot can also keep a job's progress (the console's what-if): `start_job` claims the job
with the lease of the snapshot's name (`leases`) and records it in one transaction, so of two
processes starting the same job at once one runs it and the other reads the first one's
record; `keep_job` writes progress only while the claim is still the writer's, renewing it,
and releases it with the last write. A claim not renewed for its time to live (its process
stopped) is free to be taken again.
"""
from __future__ import annotations

import json

from sqlalchemy import Connection, delete, insert, select

from arrears.engine.store import leases
from arrears.engine.store.codec import canonical
from arrears.engine.store.schema import snapshots


def put(conn: Connection, name: str, body: str, *, computed_at: int, seconds: float, meta: dict) -> None:
    """Store `body` as the snapshot `name`, replacing the previous one."""
    conn.execute(delete(snapshots).where(snapshots.c.name == name))
    conn.execute(insert(snapshots), {"name": name, "computed_at": int(computed_at), "seconds": float(seconds),
                                     "meta": canonical(meta), "body": body})


def get(conn: Connection, name: str) -> dict | None:
    """The snapshot `name` as {computed_at, seconds, meta, body}, or None if never computed."""
    row = conn.execute(select(snapshots).where(snapshots.c.name == name)).one_or_none()
    if row is None:
        return None
    return {"computed_at": row.computed_at, "seconds": row.seconds, "meta": json.loads(row.meta), "body": row.body}


def start_job(conn: Connection, name: str, holder: str, *, now: float, ttl: float, meta: dict) -> dict | None:
    """Claim the job kept as snapshot `name` for `holder` until `now + ttl` and record it (`meta`,
    an empty body); None when claimed, else the snapshot of the job another holder runs."""
    if leases.take(conn, name, holder, now, ttl):
        put(conn, name, "", computed_at=int(now), seconds=0.0, meta=meta)
        return None
    return get(conn, name)


def keep_job(conn: Connection, name: str, holder: str, body: str, *, now: float, ttl: float,
             seconds: float, meta: dict, end: bool = False) -> bool:
    """Write the progress (or, with `end`, the outcome, releasing the claim) of `holder`'s job
    `name`, renewing the claim; False, writing nothing, when the claim is no longer `holder`'s
    (it expired and another process took the job over)."""
    # Still `holder`'s, even if it lapsed while nobody else took it; never a claim that another
    # holder took over (and may have ended: a released claim keeps its holder's name).
    if leases.holder_of(conn, name) != holder or not leases.take(conn, name, holder, now, ttl):
        return False
    put(conn, name, body, computed_at=int(now), seconds=seconds, meta=meta)
    if end:
        leases.give_up(conn, name, holder, now)
    return True


def job_holder(conn: Connection, name: str, now: float) -> str | None:
    """Who holds the claim on job `name` at `now` (None: nobody, or it expired)."""
    lease = leases.held(conn, name, now)
    return None if lease is None else lease.holder
