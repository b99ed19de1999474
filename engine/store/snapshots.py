"""Snapshots: figures computed after the ticks (the console's dashboard), one row per name.

`put` replaces a snapshot whole in the caller's transaction; `get` reads one. Not audited:
a snapshot is derived from audited data and can be computed again at any time.
"""
from __future__ import annotations

import json

from sqlalchemy import Connection, delete, insert, select

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
