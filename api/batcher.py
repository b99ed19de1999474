"""Micro-batching: concurrent single-account decisions evaluated together in one `decide_batch`.

Most of a lone `decide()` is fixed per-call numpy work (about 2.5 ms), so deciding 64
accounts costs little more than deciding one. Request threads hand their account to
`MicroBatcher.decide`; one worker thread takes what is waiting (up to `max_batch`),
waits up to `max_wait` for company when the previous batch was shared (under load),
evaluates, and wakes each thread with its row. The thread builds its own `Decision`.

Deterministic: a micro-batch holds only requests with the same policy and the same
evaluation second, and never two accounts of the same debtor (per-debtor frequency
caps count across the accounts of a batch), so every row is exactly what a lone
`decide()` would return. Requests without an explicit time take the batch's second.
If a batch fails, each of its requests is decided alone, so an error reaches only
the request that caused it.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from datetime import datetime, timezone

from engine.batch import Batch
from engine.decide import decide_batch

WAIT_LIMIT = 30.0      # seconds a request waits for its batch before giving up


class Unavailable(RuntimeError):
    """The batcher is closed, or the decision was not ready within WAIT_LIMIT."""


class _Pending:
    __slots__ = ("account", "events", "policy", "now", "done", "result", "row", "error")

    def __init__(self, account, events, policy, now):
        self.account, self.events, self.policy, self.now = account, events, policy, now
        self.done = threading.Event()
        self.result = self.row = self.error = None

    @property
    def debtor(self) -> str:
        """Whose contacts count together: the debtor id, else the account id."""
        return self.account.debtor_id or self.account.id


def _second(now: datetime | None) -> int | None:
    return None if now is None else int(now.timestamp())


class MicroBatcher:
    """Decides single accounts in shared batches (see the module docstring)."""

    def __init__(self, max_batch: int = 64, max_wait: float = 0.002, on_batch=None):
        self.max_batch, self.max_wait, self.on_batch = max_batch, max_wait, on_batch
        self._queue: deque[_Pending] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self._last_size = 0
        self._thread: threading.Thread | None = None

    def decide(self, account, events, policy, now: datetime | None = None):
        """The `Decision` for one account, as `engine.decide` would return it.

        `now=None` means the current second. Raises what deciding it alone would raise.
        """
        item = _Pending(account, list(events), policy, _second(now))
        with self._cond:
            if self._closed:
                raise Unavailable("the decision batcher is closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="arrears-batcher", daemon=True)
                self._thread.start()
            self._queue.append(item)
            self._cond.notify()
        if not item.done.wait(WAIT_LIMIT):
            raise Unavailable(f"the decision was not ready within {WAIT_LIMIT:.0f} s")
        if item.error is not None:
            raise item.error
        return item.result.decision(item.row)

    def close(self) -> None:
        """Stop the worker after the batches already queued."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _take(self) -> list[_Pending] | None:
        with self._cond:
            while not self._queue and not self._closed:
                self._cond.wait()
            if not self._queue:
                return None
            if self._last_size > 1 and len(self._queue) < self.max_batch:
                deadline = time.monotonic() + self.max_wait
                while len(self._queue) < self.max_batch and not self._closed:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
            n = min(len(self._queue), self.max_batch)
            taken = [self._queue.popleft() for _ in range(n)]
        self._last_size = len(taken)
        return taken

    def _run(self) -> None:
        while True:
            taken = self._take()
            if taken is None:
                return
            for group in self.groups(taken, int(time.time())):
                self._evaluate(group)

    @staticmethod
    def groups(items: list, now_s: int) -> list[list]:
        """Split into batches with one policy, one second and distinct debtors each."""
        out: dict = {}
        for item in items:
            if item.now is None:
                item.now = now_s
            batches = out.setdefault((item.policy.digest, item.now), [])
            for batch in batches:
                if item.debtor not in batch[0]:
                    batch[0].add(item.debtor)
                    batch[1].append(item)
                    break
            else:
                batches.append(({item.debtor}, [item]))
        return [members for batches in out.values() for _, members in batches]

    def _evaluate(self, group: list) -> None:
        try:
            self._decide(group)
        except Exception as exc:
            if len(group) == 1:
                group[0].error = exc
            else:
                for item in group:
                    self._evaluate([item])
                return
        for item in group:
            item.done.set()

    def _decide(self, group: list) -> None:
        first = group[0]
        batch = Batch.from_objects([g.account for g in group], [g.events for g in group])
        result = decide_batch(batch, first.policy, datetime.fromtimestamp(first.now, timezone.utc))
        for row, item in enumerate(group):
            item.result, item.row = result, row
        if self.on_batch is not None:
            self.on_batch(len(group))
