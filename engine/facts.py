"""Facts: what is true of every account in a batch at `now`, computed column-wise.

Everything is derived from the account columns and the event history with numpy
group operations; only events at or before `now` count, so the same batch can be
evaluated at any moment (explain --at, replay). Facts are computed lazily: a policy
that never looks at, say, promises pays nothing for them.
"""
from __future__ import annotations

from functools import cached_property

import numpy as np

from engine import tzutil
from engine.batch import EVENT_CODES as E
from engine.batch import KIND_CODES, NO_DAY, NO_INVOICE, OUTCOME_CODES, Batch
from engine.factdefs import CHANNEL_KINDS
from engine.model import CONVERSATIONS, NOT_ATTEMPTS

DAY = tzutil.DAY
NEVER = np.iinfo(np.int64).min // 4          # "no such instant" in an epoch-seconds column
FAR = np.iinfo(np.int64).max // 4            # "no bound"
_KEY = np.int64(1) << 35                     # account * _KEY + seconds orders (account, time)
_CONTACT_TYPES = (E["contact_attempt"], E["contact_outcome"])
_ATTEMPT_OUTCOMES = [c for o, c in OUTCOME_CODES.items() if o not in NOT_ATTEMPTS]
_CONVERSATION_OUTCOMES = [OUTCOME_CODES[o] for o in CONVERSATIONS]


class Facts:
    """Lazily computed fact columns for one batch, one policy and one moment."""

    def __init__(self, batch: Batch, policy, now: int, durations: dict | None = None):
        self.b, self.p, self.now = batch, policy, int(now)
        # Per-account lengths of states that jurisdiction profiles may lengthen.
        self.durations = durations or {}
        self.n = batch.n
        self.tz_names = [name or policy.default_timezone for name in batch.tz_names]
        valid = batch.ev_at <= self.now
        self._valid = valid
        self.cache: dict = {}

    # ---- time -------------------------------------------------------------
    @cached_property
    def local_now(self) -> np.ndarray:
        """Local wall-clock seconds since the epoch at `now`, per account."""
        t = np.full(self.n, self.now, dtype=np.int64)
        return t + tzutil.offsets(self.tz_names, self.b.tz, t)

    @cached_property
    def today(self) -> np.ndarray:
        """Local epoch day at `now`, per account."""
        return self.local_now // DAY

    def local_day_of(self, acct: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Local epoch day of instants `t` for the accounts in rows `acct`."""
        return tzutil.local_days(self.tz_names, self.b.tz[acct], t)

    def midnight(self, day: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """UTC instant at which local `day` starts for each account (or for `rows`)."""
        zones = self.b.tz if rows is None else self.b.tz[rows]
        return tzutil.local_midnight(self.tz_names, zones, day)

    # ---- policy-bound facts ----------------------------------------------------
    def segment_mask(self, name: str) -> np.ndarray:
        """Accounts in the policy's segment `name` (segments are evaluated once each)."""
        key = ("segment", name)
        if key not in self.cache:
            self.cache[key] = self.p.segments[name].evaluate(self)
        return self.cache[key]

    @cached_property
    def bucket_index(self) -> np.ndarray:
        """Index of each account's aging bucket in the policy."""
        return np.searchsorted(self.p.bucket_starts, self.days_past_due, side="right") - 1

    @cached_property
    def bucket_names(self) -> np.ndarray:
        return np.asarray(self.p.bucket_names, dtype=object)[self.bucket_index]

    @cached_property
    def jurisdiction_codes(self) -> tuple[np.ndarray, list]:
        """(code per account, distinct jurisdictions): evaluate per jurisdiction, not per account."""
        names = np.array([j or "" for j in self.b.jurisdiction], dtype=object)
        uniq, codes = np.unique(names.astype(str), return_inverse=True)
        return codes.reshape(-1), [u or None for u in uniq.tolist()]

    def per_jurisdiction(self, fn, dtype=object) -> np.ndarray:
        """`fn(jurisdiction or None)` for every account, computed once per distinct value."""
        codes, uniq = self.jurisdiction_codes
        return np.array([fn(j) for j in uniq], dtype=dtype)[codes] if uniq else \
            np.empty(0, dtype=dtype)

    @cached_property
    def country(self) -> np.ndarray:
        return self.per_jurisdiction(lambda j: j.split("-", 1)[0] if j else None)

    @cached_property
    def multi_zone(self) -> np.ndarray:
        """Accounts known in more than one time zone."""
        return np.fromiter((len(z) > 0 for z in self.b.extra_tz), bool, count=self.n)

    @cached_property
    def language(self) -> np.ndarray:
        lang = self.b.language.copy()
        lang[lang == None] = self.p.default_language  # noqa: E711
        return lang

    @cached_property
    def last_stage_names(self) -> np.ndarray:
        ids = np.asarray([s.id for s in self.p.stages] + [None], dtype=object)
        return ids[self.progress["last_stage"]]

    # ---- event helpers -------------------------------------------------------
    def _mask(self, *types) -> np.ndarray:
        out = self.b.ev_type == types[0]
        for code in types[1:]:
            out = out | (self.b.ev_type == code)
        return self._valid & out

    def last_row(self, mask: np.ndarray) -> np.ndarray:
        """Row of the latest event selected by `mask`, per account (-1 if none)."""
        out = np.full(self.n, -1, dtype=np.int64)
        rows = np.flatnonzero(mask)
        if rows.size:
            acct = self.b.ev_acct[rows]
            last = np.r_[acct[1:] != acct[:-1], True]
            out[acct[last]] = rows[last]
        return out

    def last_at(self, mask: np.ndarray) -> np.ndarray:
        """Time of the latest event selected by `mask`, per account (NEVER if none)."""
        return take(self.b.ev_at, self.last_row(mask), NEVER)

    def count(self, mask: np.ndarray) -> np.ndarray:
        """Number of events selected by `mask`, per account."""
        return np.bincount(self.b.ev_acct[mask], minlength=self.n).astype(np.int64)

    def total(self, mask: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Exact integer sum of `values[mask]` per account."""
        out = np.zeros(self.n, dtype=np.int64)
        np.add.at(out, self.b.ev_acct[mask], values[mask])
        return out

    def status(self, start: str, end: str | None, default_days=None, max_days=None):
        """(active, until_day) of a state opened by `start` events and closed by `end` ones.

        The latest start wins. It lasts through its own `until` day, else through the
        `default_days`-th day after the day it started (a per-account array is allowed;
        negative means until an end event), and never beyond the `max_days`-th:
        when the law says "60 days" we keep the safe side and count them after the start day.
        """
        b = self.b
        row = self.last_row(self._mask(E[start]))
        has = row >= 0
        started = take(b.ev_at, row, NEVER)
        closed = self.last_at(self._mask(E[end])) if end else np.full(self.n, NEVER)
        until = take(b.ev_until, row, NO_DAY).astype(np.int64)
        if default_days is not None and has.any():
            start_day = np.full(self.n, NO_DAY, dtype=np.int64)
            start_day[has] = self.local_day_of(np.flatnonzero(has), started[has])
            days = np.broadcast_to(np.asarray(default_days, dtype=np.int64), (self.n,))
            until = np.where(has & (until == NO_DAY) & (days >= 0), start_day + days, until)
        if max_days is not None and has.any():
            first = self.local_day_of(np.flatnonzero(has), started[has])
            cap = np.full(self.n, NO_DAY, dtype=np.int64)
            cap[has] = first + max_days
            until = np.where(has & ((until == NO_DAY) | (until > cap)), cap, until)
        active = has & (started > closed) & ((until == NO_DAY) | (self.today <= until))
        return active, until

    # ---- money ----------------------------------------------------------------
    @cached_property
    def _payments(self):
        b = self.b
        mask = self._mask(E["payment"], E["credit_note"])
        return mask, np.flatnonzero(mask)

    @cached_property
    def _paid_index(self):
        """Sorted (account, time) keys of payments and their running total."""
        rows = np.flatnonzero(self._mask(E["payment"]))
        keys = self.b.ev_acct[rows].astype(np.int64) * _KEY + self.b.ev_at[rows]
        return keys, np.cumsum(self.b.ev_amount[rows])

    def paid_between(self, acct, t0, t1) -> np.ndarray:
        """Amount paid by each `acct` in the time interval (t0, t1]."""
        keys, running = self._paid_index
        if keys.size == 0:
            return np.zeros(len(acct), dtype=np.int64)
        base = np.asarray(acct, dtype=np.int64) * _KEY

        def upto(t):
            i = np.searchsorted(keys, base + np.clip(t, 0, _KEY - 1), side="right") - 1
            return np.where(i >= 0, running[np.maximum(i, 0)], 0)
        return upto(t1) - upto(t0)

    @cached_property
    def invoice_disputed(self) -> np.ndarray:
        """Per invoice: an unresolved dispute covers it (its own or an account-wide one)."""
        b = self.b
        opened, resolved = self._mask(E["dispute_opened"]), self._mask(E["dispute_resolved"])
        k = len(b.inv_acct)
        inv_open = np.full(k, NEVER)
        inv_res = np.full(k, NEVER)
        own_o, own_r = opened & (b.ev_inv >= 0), resolved & (b.ev_inv >= 0)
        np.maximum.at(inv_open, b.ev_inv[own_o], b.ev_at[own_o])
        np.maximum.at(inv_res, b.ev_inv[own_r], b.ev_at[own_r])
        acct_res = self.last_at(resolved & (b.ev_inv == NO_INVOICE))
        acct_wide = self.last_at(opened & (b.ev_inv == NO_INVOICE)) > acct_res
        # An account-wide resolution settles every dispute opened before it.
        return (inv_open > np.maximum(inv_res, acct_res[b.inv_acct])) | acct_wide[b.inv_acct]

    @cached_property
    def invoice_open(self) -> np.ndarray:
        """Open amount per invoice after payments: own ones first, the rest oldest first.

        Unallocated money pays undisputed invoices before disputed ones.
        """
        b = self.b
        mask, _ = self._payments
        direct = mask & (b.ev_inv >= 0)
        paid = np.zeros(len(b.inv_acct), dtype=np.int64)
        np.add.at(paid, b.ev_inv[direct], b.ev_amount[direct])
        open0 = b.inv_amount - paid
        pool = self.total(mask & (b.ev_inv < 0), b.ev_amount)
        np.add.at(pool, b.inv_acct, np.maximum(-open0, 0))   # overpayment of an invoice
        open0 = np.maximum(open0, 0)
        disputed = self.invoice_disputed
        und = np.where(disputed, 0, open0)
        open_und, left = _fifo(b.inv_acct, und, pool, self.n)
        open_dis, _ = _fifo(b.inv_acct, open0 - und, left, self.n)
        return open_und + open_dis

    def _sum_inv(self, values) -> np.ndarray:
        out = np.zeros(self.n, dtype=np.int64)
        np.add.at(out, self.b.inv_acct, values)
        return out

    @cached_property
    def total_balance(self) -> np.ndarray:
        return self._sum_inv(self.invoice_open)

    @cached_property
    def disputed_amount(self) -> np.ndarray:
        return self._sum_inv(np.where(self.invoice_disputed, self.invoice_open, 0))

    @cached_property
    def balance(self) -> np.ndarray:
        """Collectible balance: disputed amounts excluded when disputes pause per invoice."""
        if self.p.pauses.dispute_scope == "account":
            return self.total_balance
        return self.total_balance - self.disputed_amount

    @cached_property
    def oldest_due(self) -> np.ndarray:
        """Oldest due day of an open undisputed invoice (of any open one if all disputed)."""
        b = self.b
        open_ = self.invoice_open > 0
        und = open_ & ~self.invoice_disputed
        out = np.full(self.n, FAR)
        np.minimum.at(out, b.inv_acct[und], b.inv_due[und])
        anyd = np.full(self.n, FAR)
        np.minimum.at(anyd, b.inv_acct[open_], b.inv_due[open_])
        return np.where(out == FAR, anyd, out)

    @cached_property
    def owes(self) -> np.ndarray:
        """There is a collectible balance."""
        return self.balance > 0

    @cached_property
    def days_past_due(self) -> np.ndarray:
        """Days past the oldest unpaid due date (0 where nothing is open)."""
        return np.where(self.oldest_due == FAR, 0, self.today - self.oldest_due)

    @cached_property
    def overdue_mask(self) -> np.ndarray:
        """Per invoice: open, undisputed and past its due date."""
        b = self.b
        return (self.invoice_open > 0) & ~self.invoice_disputed & (b.inv_due < self.today[b.inv_acct])

    @cached_property
    def overdue_balance(self) -> np.ndarray:
        return self._sum_inv(np.where(self.overdue_mask, self.invoice_open, 0))

    @cached_property
    def open_invoices(self) -> np.ndarray:
        return self._sum_inv((self.invoice_open > 0).astype(np.int64))

    @cached_property
    def overdue_invoices(self) -> np.ndarray:
        return self._sum_inv(self.overdue_mask.astype(np.int64))

    # ---- windows ----------------------------------------------------------------
    def in_window(self, days: int) -> np.ndarray:
        """Events in the last `days` days (rolling, up to and including now)."""
        return self._valid & (self.b.ev_at > self.now - int(days) * DAY)

    @cached_property
    def attempt_mask(self) -> np.ndarray:
        """Contact events that were real attempts on the debtor.

        A `contact_attempt` is one attempt unless it failed or only queued a call task; a
        `contact_outcome` is an attempt only for calls (an agent's call), since for other
        channels it reports on an attempt already recorded (delivered, returned).
        """
        b = self.b
        outcome_ok = np.isin(b.ev_outcome, _ATTEMPT_OUTCOMES)
        own = self._mask(E["contact_attempt"])
        agent_call = self._mask(E["contact_outcome"]) & (b.ev_kind == KIND_CODES["call"])
        return (own | agent_call) & outcome_ok

    def contacts(self, window_days: int, channel: str | None = None) -> np.ndarray:
        mask = self.attempt_mask & self.in_window(window_days)
        if channel is not None:
            mask &= self.b.ev_kind == KIND_CODES[channel]
        return self.count(mask)

    def conversations(self, window_days: int) -> np.ndarray:
        return self.count(self.attempt_mask & self.in_window(window_days)
                          & np.isin(self.b.ev_outcome, _CONVERSATION_OUTCOMES))

    def payments(self, window_days: int) -> np.ndarray:
        return self.count(self._mask(E["payment"]) & self.in_window(window_days))

    def paid_amount(self, window_days: int) -> np.ndarray:
        return self.total(self._mask(E["payment"]) & self.in_window(window_days), self.b.ev_amount)

    @cached_property
    def last_payment_at(self) -> np.ndarray:
        return self.last_at(self._mask(E["payment"]))

    @cached_property
    def last_contact_at(self) -> np.ndarray:
        return self.last_at(self.attempt_mask)

    @cached_property
    def first_attempt_at(self) -> np.ndarray:
        """Time of the very first contact attempt (any episode), NEVER if none."""
        rows = np.flatnonzero(self.attempt_mask)
        out = np.full(self.n, NEVER)
        if rows.size:
            acct = self.b.ev_acct[rows]
            first = np.r_[True, acct[1:] != acct[:-1]]
            out[acct[first]] = self.b.ev_at[rows[first]]
        return out

    # ---- stop states and pauses ---------------------------------------------------
    @cached_property
    def states(self) -> dict:
        """(active, until_day) for every state that can hold collection back."""
        p = self.p.pauses
        return {
            "hold": self.status("hold", "hold_released", max_days=p.hold_max_days),
            "hardship": self.status("hardship", "hardship_ended",
                                    self.durations.get("hardship", self.p.grace.hardship_days)),
            "cease_communication": self.status("cease_communication", None),
            "represented": self.status("represented", "representation_ended"),
            "bankrupt": self.status("bankruptcy", "bankruptcy_ended"),
            "deceased": self.status("deceased", None),
            "breathing_space": self.status("breathing_space", "breathing_space_ended",
                                           self.durations.get("breathing_space", 60)),
        }

    @cached_property
    def opted_out(self) -> np.ndarray:
        """Bitmask of channel kinds the debtor opted out of (latest word wins)."""
        b = self.b
        out = np.zeros(self.n, dtype=np.int64)
        opt_out, opt_in = self._mask(E["channel_opt_out"]), self._mask(E["channel_opt_in"])
        for kind, code in KIND_CODES.items():
            on_kind = b.ev_kind == code
            gone = self.last_at(opt_out & on_kind) > self.last_at(opt_in & on_kind)
            out |= gone.astype(np.int64) << code
        return out

    @cached_property
    def reachable(self) -> np.ndarray:
        return self.b.reach & ~self.opted_out

    # ---- promises and plans ---------------------------------------------------------
    @cached_property
    def promises(self) -> dict:
        """Every promise's deadline and fate, and the latest promise per account."""
        b, p = self.b, self.p.pauses
        rows = np.flatnonzero(self._mask(E["promise_to_pay"]))
        acct = b.ev_acct[rows]
        made_day = self.local_day_of(acct, b.ev_at[rows])
        last_day = np.minimum(b.ev_until[rows].astype(np.int64) + p.promise_tolerance_days,
                              made_day + p.promise_max_days)
        deadline = self.midnight(last_day + 1, acct)
        kept = self.paid_between(acct, b.ev_at[rows] - 1, deadline - 1) >= b.ev_amount[rows]
        broken = ~kept & (deadline <= self.now)
        latest = self.last_row(self._mask(E["promise_to_pay"]))
        pos = np.searchsorted(rows, np.maximum(latest, 0))
        has = latest >= 0
        pos = np.where(has, pos, 0)
        pick = (lambda arr, fill: np.where(has, arr[pos], fill)) if rows.size else \
            (lambda arr, fill: np.full(self.n, fill))
        return {
            "rows": rows, "acct": acct, "deadline": deadline, "broken": broken,
            "open": pick(~kept & ~broken, False),
            "latest_broken": pick(broken, False),
            "latest_deadline": pick(deadline, NEVER),
            "latest_last_day": pick(last_day, NO_DAY),
        }

    def promises_broken(self, window_days: int) -> np.ndarray:
        pr = self.promises
        recent = pr["broken"] & (pr["deadline"] > self.now - int(window_days) * DAY)
        return np.bincount(pr["acct"][recent], minlength=self.n).astype(np.int64)

    @cached_property
    def plan(self) -> dict:
        """The latest payment plan: active, in good standing, next instalment check day."""
        b, tol = self.b, self.p.pauses.plan_tolerance_days
        row = self.last_row(self._mask(E["payment_plan"]))
        has = row >= 0
        made = take(b.ev_at, row, NEVER)
        cancelled = self.last_at(self._mask(E["payment_plan_cancelled"])) > made
        pi_acct = b.ev_acct[b.pi_event] if b.pi_event.size else np.empty(0, dtype=np.int32)
        current = b.pi_event == row[pi_acct] if b.pi_event.size else np.empty(0, dtype=bool)
        acct, due, amount = pi_acct[current], b.pi_due[current], b.pi_amount[current]
        total = np.zeros(self.n, dtype=np.int64)
        np.add.at(total, acct, amount)
        required = np.zeros(self.n, dtype=np.int64)
        late = due + tol < self.today[acct]
        np.add.at(required, acct[late], amount[late])
        paid = self.paid_between(np.arange(self.n), np.where(has, made - 1, 0),
                                 np.full(self.n, self.now))
        active = has & ~cancelled & (paid < total)
        cum = np.cumsum(amount)
        start = np.zeros(self.n, dtype=np.int64)
        if acct.size:
            first = np.r_[True, acct[1:] != acct[:-1]]
            start[acct[first]] = (cum - amount)[first]
        unpaid = (cum - start[acct]) > paid[acct]
        check = np.full(self.n, FAR)
        np.minimum.at(check, acct[unpaid], due[unpaid] + tol + 1)
        good = active & (paid >= required)
        # Only a plan in good standing waits for a day; a missed one acts at once.
        return {"active": active, "good": good, "check_day": np.where(good, check, FAR)}

    # ---- escalation progress ------------------------------------------------------------
    @cached_property
    def episode_start(self) -> np.ndarray:
        """First local day of the current collection episode (contacts before it are history)."""
        return np.where(self.oldest_due == FAR, FAR, self.oldest_due + min(0, self.p.first_threshold))

    @cached_property
    def progress(self) -> dict:
        """Per account and stage: attempts and last attempt time in the current episode."""
        b, k = self.b, len(self.p.stages)
        rows = np.flatnonzero(self._valid & (b.ev_type == E["contact_attempt"]))
        stage = self.p.stage_codes(b.ev_stage[rows])
        rows, stage = rows[stage >= 0], stage[stage >= 0]
        acct = b.ev_acct[rows]
        in_episode = self.local_day_of(acct, b.ev_at[rows]) >= self.episode_start[acct]
        rows, stage, acct = rows[in_episode], stage[in_episode], acct[in_episode]
        failed = b.ev_outcome[rows] == OUTCOME_CODES["failed"]
        attempts = np.zeros((self.n, k), dtype=np.int64)
        last_at = np.full((self.n, k), NEVER)
        np.add.at(attempts, (acct[~failed], stage[~failed]), 1)
        np.maximum.at(last_at, (acct[~failed], stage[~failed]), b.ev_at[rows[~failed]])
        failed_kinds = np.zeros((self.n, k), dtype=np.int64)
        kinds = b.ev_kind[rows[failed]].astype(np.int64)
        ok = kinds >= 0
        np.bitwise_or.at(failed_kinds, (acct[failed][ok], stage[failed][ok]),
                         np.left_shift(1, kinds[ok]))
        done = attempts > 0
        last_stage = np.where(done.any(axis=1), k - 1 - np.argmax(done[:, ::-1], axis=1), -1)
        last_any = last_at.max(axis=1) if k else np.full(self.n, NEVER)
        return {"attempts": attempts, "last_at": last_at, "failed_kinds": failed_kinds,
                "last_stage": last_stage, "last_contact_at": last_any}


def take(values: np.ndarray, rows: np.ndarray, fill) -> np.ndarray:
    """values[rows] where rows >= 0, else `fill` (safe when `values` is empty)."""
    if values.size == 0:
        return np.full(rows.shape, fill, dtype=np.int64)
    return np.where(rows >= 0, values[np.maximum(rows, 0)], fill)


def _fifo(acct: np.ndarray, amounts: np.ndarray, pool: np.ndarray, n: int):
    """Apply each account's `pool` to its `amounts` in row order; return (open, pool left)."""
    cum = np.cumsum(amounts)
    start = np.zeros(n, dtype=np.int64)
    if acct.size:
        first = np.r_[True, acct[1:] != acct[:-1]]
        start[acct[first]] = (cum - amounts)[first]
    within = cum - start[acct]
    open_ = np.clip(within - pool[acct], 0, amounts)
    total = np.zeros(n, dtype=np.int64)
    np.add.at(total, acct, amounts)
    return open_, np.maximum(pool - total, 0)


__all__ = ["Facts", "NEVER", "FAR", "DAY", "CHANNEL_KINDS"]
