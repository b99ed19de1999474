"""The simulated clock: when each account is due, as the live tick sees it.

An account is due when something happened to it since its last evaluation (an invoice
issued, a payment, a dispute, a write-off, a contact sent): the store's rule, where
every change makes the account due at the next tick. Ticks fall on a fixed grid
(`tick` seconds, aligned to the epoch, like a scheduler's interval); ticks at which
nothing is due are skipped, so quiet days cost nothing.

An account whose own next evaluation time falls before the next tick is decided at
this one, as if the tick ran at that time: with one tick a day, a contact whose window
opens at 08:00 local goes out that day at 08:00 (its `not_before`, see `run`), not a day
late. Deciding a few hours early changes nothing that day: what the decision waits for
(a window, a frequency cap, the next local day) it returns as `not_before` or as the
next evaluation time, and an account not yet ready is simply decided again next tick.
"""
from __future__ import annotations

import numpy as np

from arrears.engine.domain.clock import FAR

_SPAN = np.int64(1) << 38      # seconds: (account, time) keys hold ~8,700 years per account


class Clock:
    """Due times of `n` accounts, and the changes still to come (wake-ups)."""

    def __init__(self, n: int, tick: int, wake_acct: np.ndarray, wake_at: np.ndarray, end_at: np.ndarray):
        order = np.argsort(wake_at, kind="stable")
        self.wake_acct, self.wake_at = wake_acct[order], wake_at[order]
        # The same changes keyed by (account, time), to find an account's next change.
        self._base = int(wake_at.min(initial=0))
        self._keys = np.sort(wake_acct.astype(np.int64) * _SPAN + (wake_at - self._base))
        self.next_eval = np.full(n, FAR, dtype=np.int64)
        self.end_at = end_at                 # per account: the replay ends for it at this instant
        self.tick = int(tick)
        self._woken = 0

    def first_tick(self, start: int) -> int:
        """The grid tick at or before `start`."""
        return start // self.tick * self.tick

    def due(self, now: int) -> np.ndarray:
        """Accounts due at tick `now` (increasing rows): changed by `now`, or to be evaluated
        before the next tick. Those whose replay has ended are retired."""
        upto = int(np.searchsorted(self.wake_at, now, side="right"))
        if upto > self._woken:
            acct, at = self.wake_acct[self._woken:upto], self.wake_at[self._woken:upto]
            np.minimum.at(self.next_eval, acct, at)
            self._woken = upto
        rows = np.flatnonzero(self.next_eval < now + self.tick)
        over = now >= self.end_at[rows]
        if over.any():
            self.next_eval[rows[over]] = FAR
            rows = rows[~over]
        return rows

    def changes_between(self, acct: np.ndarray, t0: int, t1: np.ndarray) -> np.ndarray:
        """Per account in `acct`: is a change recorded in the time interval (t0, t1]?"""
        base = acct.astype(np.int64) * _SPAN - self._base
        i = np.searchsorted(self._keys, base + t0, side="right")
        nxt = self._keys[np.minimum(i, len(self._keys) - 1)] if len(self._keys) else np.zeros(len(acct), np.int64)
        return (i < len(self._keys)) & (nxt <= base + np.asarray(t1, dtype=np.int64))

    def evaluated(self, rows: np.ndarray, next_eval: np.ndarray) -> None:
        """Record the next evaluation times the decisions gave."""
        self.next_eval[rows] = next_eval

    def changed(self, rows: np.ndarray, now: int) -> None:
        """Something was recorded for `rows` at `now`: due again at the next tick."""
        self.next_eval[rows] = now + 1

    def next_tick(self, now: int) -> int | None:
        """The next grid tick with anything due, or None when nothing ever will be."""
        tick = self.tick
        # An evaluation time is served by the tick before it, a change by the tick after it.
        pending = int(self.next_eval.min()) // tick * tick if len(self.next_eval) else FAR
        if self._woken < len(self.wake_at):
            pending = min(pending, -(-int(self.wake_at[self._woken]) // tick) * tick)
        if pending >= int(self.end_at.max(initial=0)):
            return None
        return max(now + tick, pending)
