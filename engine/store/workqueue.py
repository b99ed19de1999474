"""The work queue of the built-in `call` and `task` channels: a SQLite file of its own.

Not the Arrears database: each queue channel names its file (`queue_db`), which agents'
tools read; the channel (`arrears.plugins.channels.queue`) decides what a task says, this
module keeps the file. A task exists at most once per idempotency key, and `enqueue`
counts the day's tasks and inserts under one write lock, so two deliveries can never
both take the last place of a day's capacity. The file is opened per call with the
sqlite3 module (autocommit; transactions are explicit) and closed again; its errors
leave as `StoreError`s (`arrears.engine.store.failures`).
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

from arrears.engine.store.failures import translated

SCHEMA = """
CREATE TABLE IF NOT EXISTS work_queue (
    idempotency_key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    account_id TEXT NOT NULL,
    stage TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    priority REAL NOT NULL,
    phone TEXT,
    subject TEXT,
    script TEXT NOT NULL,
    language TEXT NOT NULL,
    account_manager TEXT,
    not_before TEXT NOT NULL,
    queued_at TEXT NOT NULL,
    queued_day TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open'
);
CREATE INDEX IF NOT EXISTS work_queue_day ON work_queue (kind, queued_day);
CREATE INDEX IF NOT EXISTS work_queue_order ON work_queue (status, priority DESC, not_before);
"""
TASK_COLUMNS = ("idempotency_key", "kind", "account_id", "stage", "attempt", "priority", "phone",
                "subject", "script", "language", "account_manager", "not_before", "queued_at",
                "queued_day")
_INSERT = (f"INSERT INTO work_queue ({', '.join(TASK_COLUMNS)}) "
           f"VALUES ({', '.join('?' * len(TASK_COLUMNS))})")


def connect(path: Path) -> sqlite3.Connection:
    """Open the queue file, creating it (and its folder) if missing; autocommit mode, callers
    open transactions explicitly. The caller closes it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    conn.row_factory = sqlite3.Row
    try:
        conn.executescript(SCHEMA)
    except BaseException:
        conn.close()
        raise
    return conn


def open_tasks(path: str | Path, kind: str | None = None, limit: int = 50) -> list[dict]:
    """The open tasks agents should work next: highest priority first, then oldest."""
    sql = "SELECT * FROM work_queue WHERE status = 'open'"
    args: list = []
    if kind:
        sql += " AND kind = ?"
        args.append(kind)
    sql += " ORDER BY priority DESC, not_before, queued_at LIMIT ?"
    with translated(str(path)):
        conn = connect(Path(path))
        try:
            return [dict(row) for row in conn.execute(sql, [*args, limit])]
        finally:
            conn.close()


def enqueue(path: Path, task: dict, capacity: int) -> tuple[str, int]:
    """Add `task` (a value for each of TASK_COLUMNS) to the queue, in one write transaction.

    Returns (`"already"`, 0) if a task with its idempotency key is queued already,
    (`"full"`, n) if `capacity` tasks of its kind were queued on its `queued_day` (n of
    them), else (`"queued"`, n) with n the tasks of that kind and day before this one.
    """
    with translated(str(path)):
        conn = connect(path)
        try:
            conn.execute("BEGIN IMMEDIATE")     # count and insert under one write lock
            if conn.execute("SELECT 1 FROM work_queue WHERE idempotency_key = ?",
                            (task["idempotency_key"],)).fetchone():
                conn.execute("COMMIT")
                return "already", 0
            used = conn.execute("SELECT COUNT(*) FROM work_queue WHERE kind = ? AND queued_day = ?",
                                (task["kind"], task["queued_day"])).fetchone()[0]
            if used >= capacity:
                conn.execute("ROLLBACK")
                return "full", used
            conn.execute(_INSERT, tuple(task[c] for c in TASK_COLUMNS))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        finally:
            conn.close()
    return "queued", used
