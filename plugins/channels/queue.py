"""Built-in `call` and `task` channels: a prioritised work queue for human agents.

Settings (`channels.call`, `channels.task`):
  queue_db        SQLite file holding the queue (required; created if missing)
  daily_capacity  how many tasks of this kind agents can work per day (required)
  timezone        IANA zone whose calendar day the capacity counts in (default UTC)

"Delivering" adds a row to the `work_queue` table. A row exists at most once per
idempotency key (a second delivery is a no-op); when the day's capacity is used up the
result is `failed_retryable`, so the host tries again on a later tick. A queued task is
not yet a contact with the debtor: its contact outcome is `queued`.
"""
from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from arrears.engine.domain.decision import rfc3339
from arrears.plugins import hookimpl
from arrears.plugins.channels import Channel, Settings
from arrears.plugins.message import DeliveryResult, Message

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


def connect(path: Path) -> sqlite3.Connection:
    """Open the queue database (autocommit mode; callers open transactions explicitly)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.executescript(SCHEMA)
    return conn


def open_tasks(path: str | Path, kind: str | None = None, limit: int = 50) -> list[dict]:
    """The open tasks agents should work next: highest priority first, then oldest."""
    sql = "SELECT * FROM work_queue WHERE status = 'open'"
    args: list = []
    if kind:
        sql += " AND kind = ?"
        args.append(kind)
    sql += " ORDER BY priority DESC, not_before, queued_at LIMIT ?"
    conn = connect(Path(path))
    try:
        return [dict(row) for row in conn.execute(sql, [*args, limit])]
    finally:
        conn.close()


class QueueChannel(Channel):
    """Tasks for human agents, capped per day."""

    kind = "call"
    name = "call task queue"
    needs_phone = True

    def configure(self, settings) -> None:
        """Validate the queue file, the daily capacity and the time zone."""
        s = Settings(self.kind, settings)
        db = s.str("queue_db", required=True)
        self.capacity = s.int("daily_capacity", required=True, minimum=0)
        zone = s.str("timezone", default="UTC")
        try:
            self.zone = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            s.require(False, f"timezone {zone!r} is not an IANA time zone")
        self.queue_db = Path(db).expanduser() if db else None
        s.check()
        self.configured = True

    def describe(self) -> str:
        """Where tasks go and the daily cap."""
        return f"{self.name} -> {getattr(self, 'queue_db', '?')} " \
               f"(capacity {getattr(self, 'capacity', '?')}/day)"

    def deliver(self, message: Message) -> DeliveryResult:
        """Queue the task unless it is queued already or today's capacity is used up."""
        phone = message.recipient.phone or message.recipient.mobile
        if self.needs_phone and not phone:
            return DeliveryResult.permanent("the account has no phone number to call")
        now = self.clock()
        day = now.astimezone(self.zone).date().isoformat()
        try:
            return self._enqueue(message, phone, now, day)
        except (sqlite3.Error, OSError) as exc:
            return DeliveryResult.retryable(f"work queue {self.queue_db} unavailable: {exc}")

    def _enqueue(self, message: Message, phone, now: datetime, day: str) -> DeliveryResult:
        key = message.idempotency_key
        conn = connect(self.queue_db)
        try:
            conn.execute("BEGIN IMMEDIATE")     # count and insert under one write lock
            if conn.execute("SELECT 1 FROM work_queue WHERE idempotency_key = ?", (key,)).fetchone():
                conn.execute("COMMIT")
                return DeliveryResult.sent(provider_id=key, detail="already queued", outcome="queued")
            used = conn.execute("SELECT COUNT(*) FROM work_queue WHERE kind = ? AND queued_day = ?",
                                (self.kind, day)).fetchone()[0]
            if used >= self.capacity:
                conn.execute("ROLLBACK")
                return DeliveryResult.retryable(
                    f"daily {self.kind} capacity of {self.capacity} reached for {day}; "
                    f"retry on a later day")
            conn.execute(
                "INSERT INTO work_queue (idempotency_key, kind, account_id, stage, attempt, priority,"
                " phone, subject, script, language, account_manager, not_before, queued_at,"
                " queued_day) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (key, self.kind, message.account_id, message.stage, message.attempt,
                 float(message.metadata.get("priority") or 0.0), phone, message.subject,
                 message.body or "", message.language, message.metadata.get("account_manager"),
                 rfc3339(message.not_before), rfc3339(now), day))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        finally:
            conn.close()
        return DeliveryResult.sent(provider_id=key, detail=f"queued ({used + 1}/{self.capacity} "
                                   f"for {day})", outcome="queued")


class TaskChannel(QueueChannel):
    """Internal review tasks (write-off reviews, agency referrals) for staff."""

    kind = "task"
    name = "staff task queue"
    needs_phone = False


@hookimpl(trylast=True)
def arrears_channels():
    """The built-in call and task queues."""
    return [QueueChannel(), TaskChannel()]
