"""Micro-batching: concurrent single-account decisions evaluated together in one `decide_batch`.

Most of a lone `decide()` is fixed per-call numpy work (about 2.5 ms), so deciding 64
accounts costs little more than deciding one. Request threads hand their account to
`MicroBatcher.evaluate` (an account and history sent in the request) or
`evaluate_stored` (an account id in the store); one worker thread takes what is
waiting (up to `max_batch`) and, when the previous batch was shared (under load),
waits for company while requests keep arriving less than `max_wait` apart; then it
evaluates, `prepare`s the result (the API makes its answer columns there) and wakes
each thread with its batch and row, from which the thread builds its answer
(`arrears.api.decision_json`, or a `Decision`). Stored accounts are read together too:
one snapshot, one query per table for the whole batch (`arrears.engine.store.batchload`,
as the tick reads them), not three queries per request.

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

from arrears.engine.decisions.core import decide_batch
from arrears.engine.decisions.result import DecisionBatch
from arrears.engine.domain.batch import Batch
from arrears.engine.store import UnknownAccount
from arrears.engine.store.batchload import load_batch
from arrears.engine.store.db import read_transaction
from arrears.engine.store.ingest import lookup

WAIT_LIMIT = 30.0      # seconds a request waits for its batch before giving up
GATHER_ROUNDS = 8      # a batch gathers company for at most this many times `max_wait`
THREAD_NAME = "arrears-batcher"     # also the thread's name for the OS (top -H, /proc, bench/api.py)


class Unavailable(RuntimeError):
    """The batcher is closed, or the decision was not ready within WAIT_LIMIT."""


class _Pending:
    __slots__ = (
        "account",
        "account_id",
        "batch",
        "done",
        "error",
        "events",
        "now",
        "policy",
        "row",
        "store",
    )

    def __init__(self, account, events, policy, now, account_id=None, store=None):
        self.account, self.events, self.policy, self.now = account, events, policy, now
        self.account_id, self.store = account_id, store
        # A one-shot signal: a lock held from the start, released once when the row is ready.
        # (A threading.Event is a Condition, a lock and a waiter lock per wait: about three
        # times the work for each request, and one more lock for the woken thread to take.)
        self.done = threading.Lock()
        self.done.acquire()
        self.batch = self.row = self.error = None

    def wait(self, timeout: float) -> bool:
        """Block until `finish` (True) or `timeout` seconds (False)."""
        return self.done.acquire(timeout=timeout)

    def finish(self) -> None:
        """Wake the request thread (called once, when its batch and row, or its error, are set)."""
        self.done.release()

    @property
    def debtor(self) -> str:
        """Whose contacts count together: the debtor id, else the account id (for a stored
        account, known only once it is read: its id until then)."""
        if self.account is None:
            return self.account_id
        return self.account.debtor_id or self.account.id


def _second(now: datetime | None) -> int | None:
    return None if now is None else int(now.timestamp())


class MicroBatcher:
    """Decides single accounts in shared batches (see the module docstring)."""

    def __init__(self, max_batch: int = 64, max_wait: float = 0.002, on_batch=None, prepare=None):
        """`on_batch(size)` is told each batch's size; `prepare(result)`, if given, is called
        with each evaluated `DecisionBatch` on the batcher's thread before its requests wake
        (the API makes the columns its answers are written from there: once, by one thread,
        instead of by the first woken request thread while the others queue for it)."""
        self.max_batch, self.max_wait, self.on_batch, self.prepare = max_batch, max_wait, on_batch, prepare
        self._queue: deque[_Pending] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self._idle = False             # the worker waits for a first request
        self._last_size = 0
        self._thread: threading.Thread | None = None

    def decide(self, account, events, policy, now: datetime | None = None):
        """The `Decision` for one account, as `arrears.engine.decisions.core` would return it.

        `now=None` means the current second. Raises what deciding it alone would raise.
        """
        batch, row = self.evaluate(account, events, policy, now)
        return batch.decision(row)

    def evaluate(self, account, events, policy, now: datetime | None = None) -> tuple[DecisionBatch, int]:
        """The `DecisionBatch` holding one account's evaluation, and its row in it.

        The row is what a lone `decide_batch` of the account gives. `now=None` means the
        current second. Raises what deciding it alone would raise.
        """
        return self._submit(_Pending(account, list(events), policy, _second(now)))

    def evaluate_stored(self, store, account_id: str, policy,
                        now: datetime | None = None) -> tuple[DecisionBatch, int]:
        """Like `evaluate`, for the account `account_id` and its history as `store` holds them
        (read when its batch is formed). UnknownAccount if no such account is stored."""
        return self._submit(_Pending(None, None, policy, _second(now), account_id, store))

    def _submit(self, item: _Pending) -> tuple[DecisionBatch, int]:
        with self._cond:
            if self._closed:
                raise Unavailable("the decision batcher is closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)
                self._thread.start()
            self._queue.append(item)
            # Wake the worker only when it waits for a first request or a full batch: while
            # it gathers company it looks at the queue itself (a wake-up per request costs
            # a thread switch each).
            if self._idle or len(self._queue) >= self.max_batch:
                self._cond.notify()
        if not item.wait(WAIT_LIMIT):
            raise Unavailable(f"the decision was not ready within {WAIT_LIMIT:.0f} s")
        if item.error is not None:
            raise item.error
        return item.batch, item.row

    def close(self) -> None:
        """Stop the worker after the batches already queued."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _take(self) -> list[_Pending] | None:
        with self._cond:
            self._idle = True
            while not self._queue and not self._closed:
                self._cond.wait()
            self._idle = False
            if not self._queue:
                return None
            if self._last_size > 1:
                self._gather()
            n = min(len(self._queue), self.max_batch)
            taken = [self._queue.popleft() for _ in range(n)]
        self._last_size = len(taken)
        return taken

    def _gather(self) -> None:
        """Under load, wait for company: while requests keep arriving less than `max_wait`
        apart, until a batch is full or `GATHER_ROUNDS` times `max_wait` have passed. The
        request threads share one interpreter lock with this one, so a batch costs least
        when it starts once they have nothing left to do but wait for it: one batch of
        everything in flight costs little more than a batch of half of it. (Holds the lock.)"""
        deadline = time.monotonic() + GATHER_ROUNDS * self.max_wait
        while len(self._queue) < self.max_batch and not self._closed:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            seen = len(self._queue)
            self._cond.wait(min(left, self.max_wait))
            if len(self._queue) == seen:
                break

    def _run(self) -> None:
        _name_os_thread(THREAD_NAME)
        while True:
            taken = self._take()
            if taken is None:
                return
            for group in self.groups(taken, int(time.time())):
                self._evaluate(group)

    @staticmethod
    def groups(items: list, now_s: int) -> list[list]:
        """Split into batches with one policy, one second, one source (the request or a
        store) and distinct debtors each (stored accounts are split once read)."""
        out: dict = {}
        for item in items:
            if item.now is None:
                item.now = now_s
            batches = out.setdefault((item.policy.digest, item.now, id(item.store)), [])
            for batch in batches:
                if item.store is not None or item.debtor not in batch[0]:
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
                    item.batch = item.row = item.error = None
                    self._evaluate([item])
                return
        for item in group:
            item.finish()

    def _decide(self, group: list) -> None:
        first = group[0]
        now = datetime.fromtimestamp(first.now, timezone.utc)
        if first.store is not None:
            self._decide_stored(group, now)
            return
        batch = Batch.from_objects([g.account for g in group], [g.events for g in group])
        result = decide_batch(batch, first.policy, now)
        if self.prepare is not None:
            self.prepare(result)
        for row, item in enumerate(group):
            item.batch, item.row = result, row
        if self.on_batch is not None:
            self.on_batch(len(group))

    def _decide_stored(self, group: list, now: datetime) -> None:
        """Read the group's accounts in one snapshot and decide them, a debtor's accounts in
        separate batches; requests for one account share its row."""
        with read_transaction(group[0].store.engine) as conn:
            nos = lookup(conn, [g.account_id for g in group])
            loaded = list(_debtor_batches(conn, sorted(set(nos.values()))))
        for item in group:
            if item.account_id not in nos:
                item.error = UnknownAccount(f"unknown account {item.account_id!r}", "account_id")
        for batch, rows in loaded:
            result = decide_batch(batch, group[0].policy, now)
            if self.prepare is not None:
                self.prepare(result)
            where = dict(zip(rows, range(len(rows))))
            for item in group:
                row = where.get(nos.get(item.account_id))
                if row is not None:
                    item.batch, item.row = result, row
            if self.on_batch is not None:
                self.on_batch(len(rows))


def _name_os_thread(name: str) -> None:
    """Give the calling thread `name` (at most 15 bytes) where the OS shows it (Linux: its
    `comm`, seen by top -H and in /proc), so its CPU time can be told from the request threads'.
    Elsewhere, or if /proc is not there, nothing happens."""
    try:
        with open(f"/proc/self/task/{threading.get_native_id()}/comm", "w") as f:
            f.write(name[:15])
    except OSError:
        pass


def _debtor_batches(conn, acct_nos: list[int]):
    """(Batch, its acct_nos) pairs covering `acct_nos`, no debtor twice in one batch."""
    while acct_nos:
        batch = load_batch(conn, acct_nos)
        keep, rest, seen = [], [], set()
        for no, debtor in zip(acct_nos, batch.debtor):
            (rest if debtor in seen else keep).append(no)
            seen.add(debtor)
        if rest:                       # rare: reread without the later accounts of a debtor
            batch = load_batch(conn, keep)
        yield batch, keep
        acct_nos = rest
