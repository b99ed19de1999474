"""Built-in `call` and `task` channels: a prioritised work queue for human agents.

Settings (`channels.call`, `channels.task`):
  queue_db        SQLite file holding the queue (required; created if missing)
  daily_capacity  how many tasks of this kind agents can work per day (required)
  timezone        IANA zone whose calendar day the capacity counts in (default UTC)

"Delivering" adds a row to the `work_queue` table (kept by `arrears.engine.store.workqueue`,
which also lists the open tasks: `open_tasks`). A row exists at most once per
idempotency key (a second delivery is a no-op); when the day's capacity is used up the
result is `failed_retryable`, so the host tries again on a later tick. A queued task is
not yet a contact with the debtor: its contact outcome is `queued`.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from arrears.engine.domain.decision import rfc3339
from arrears.engine.domain.errors import StoreError
from arrears.engine.store import workqueue
from arrears.engine.store.workqueue import open_tasks  # noqa: F401 -- this module's API (docs/plugin-guide.md)
from arrears.plugins import hookimpl
from arrears.plugins.channels import Channel, Settings
from arrears.plugins.message import DeliveryResult, Message


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
        except (StoreError, OSError) as exc:
            return DeliveryResult.retryable(f"work queue {self.queue_db} unavailable: {exc}")

    def _enqueue(self, message: Message, phone, now: datetime, day: str) -> DeliveryResult:
        key = message.idempotency_key
        task = {"idempotency_key": key, "kind": self.kind, "account_id": message.account_id,
                "stage": message.stage, "attempt": message.attempt,
                "priority": float(message.metadata.get("priority") or 0.0), "phone": phone,
                "subject": message.subject, "script": message.body or "", "language": message.language,
                "account_manager": message.metadata.get("account_manager"),
                "not_before": rfc3339(message.not_before), "queued_at": rfc3339(now), "queued_day": day}
        outcome, used = workqueue.enqueue(self.queue_db, task, self.capacity)
        if outcome == "already":
            return DeliveryResult.sent(provider_id=key, detail="already queued", outcome="queued")
        if outcome == "full":
            return DeliveryResult.retryable(
                f"daily {self.kind} capacity of {self.capacity} reached for {day}; "
                f"retry on a later day")
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
